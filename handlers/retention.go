package handlers

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/db"
	"agora/views"
)

// Retention: messages (and their files) older than their room's retention,
// or the server's -retention, are deleted by a job of the durable queue, at
// start and then daily. A job's key is unique in the queue, so on a cluster
// the nodes that start on one day, and the daily runs, run once.

const (
	jobRetention = "retention"
	// retentionBatch is how many threads (roots with their replies) one
	// write deletes: a few milliseconds of the writer, whose other work
	// waits at most that long.
	retentionBatch = 200
	retentionTries = 5
)

// retentionActor is who the audit list says deleted old messages.
var retentionActor = chat.User{Username: "retention"}

// startRetention registers the job and, when anything is to be deleted
// (a server retention, or a room's own), asks for today's run at start.
func (s *Server) startRetention(days int) {
	s.retention = days
	s.jobs.Handle(jobRetention, s.runRetention)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if days <= 0 {
		has, err := s.store.HasRoomRetention(ctx)
		if err != nil {
			s.log.Error("retention: read the rooms' settings", "err", err)
		}
		if !has {
			return
		}
	}
	if err := s.enqueueRetention(ctx, time.Now(), "start:"+time.Now().UTC().Format(time.DateOnly)); err != nil {
		s.log.Error("retention: ask for the run at start", "err", err)
	}
}

func (s *Server) enqueueRetention(ctx context.Context, at time.Time, key string) error {
	_, err := s.jobs.Enqueue(ctx, chat.Job{Kind: jobRetention, RunAt: at, MaxAttempts: retentionTries, Key: jobRetention + ":" + key})
	return err
}

// runRetention deletes in batches until nothing is older than its room's
// retention, says how many in the audit list, and asks for tomorrow's run.
func (s *Server) runRetention(ctx context.Context, _ chat.Job) error {
	var total db.Expired
	now := time.Now()
	for {
		e, err := s.store.DeleteExpired(ctx, now, s.retention, retentionBatch)
		if err != nil {
			return err
		}
		if e.Messages == 0 {
			break
		}
		total.Messages += e.Messages
		total.Files += e.Files
		total.Bytes += e.Bytes
	}
	if total.Messages > 0 {
		detail := fmt.Sprintf("deleted %d messages and %d files (%d bytes) older than their room's retention", total.Messages, total.Files, total.Bytes)
		if err := s.store.Audit(ctx, retentionActor, "deleted old messages", "", detail); err != nil {
			return err
		}
		s.log.Info("retention", "messages", total.Messages, "files", total.Files, "bytes", total.Bytes)
	}
	next := now.Add(24 * time.Hour)
	return s.enqueueRetention(ctx, next, "daily:"+next.UTC().Format(time.DateOnly))
}

// handleAdminRoomRetention sets a room's own retention, and runs the job at
// once so that the change shows without waiting a day.
func (s *Server) handleAdminRoomRetention(c echo.Context) error {
	r, err := s.adminRoom(c)
	if err != nil {
		return err
	}
	days, err := chat.ParseRoomRetention(c.FormValue("retention"))
	if err != nil {
		return s.adminRoomsError(c, err)
	}
	ctx := c.Request().Context()
	if err := s.store.SetRoomRetention(ctx, r.ID, days); err != nil {
		return s.adminRoomsError(c, err)
	}
	text := views.RetentionText(days, s.retention)
	if err := s.audit(c, "set the retention of", r.Slug, text); err != nil {
		return err
	}
	if err := s.enqueueRetention(ctx, time.Now(), "set:"+r.Slug+":"+strconv.FormatInt(time.Now().UnixNano(), 36)); err != nil {
		return err
	}
	return s.adminDone(c, "/admin/rooms", views.RoomTitle(r.Room)+" "+text+".")
}
