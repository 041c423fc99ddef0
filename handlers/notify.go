package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"agora/chat"
	"agora/chat/jobs"
)

// Telling people who are not looking: a new message that may concern
// someone personally (a mention, a direct message, a thread reply, or any
// message of a room someone set to all) adds ONE notify job, and the job
// finds whom it concerns and queues their pushes and missed-activity
// emails. The message path itself reads nothing for it: which rooms have
// a member at all is known to each node (loudRooms) and told by the
// members' own events.

const (
	jobNotify      = "notify"
	notifyAttempts = 6
)

// notifyJob is a new message to tell people of.
type notifyJob struct {
	Message chat.Message `json:"message"`
	Room    chat.Room    `json:"room"`
	Author  chat.User    `json:"author"`
}

// loudRooms caches, per room, whether a member set it to all (every
// message concerns them). A room not in it is read from the store once;
// a member's change of level (UserNotify, from any node) forgets the room.
// A member at all who leaves leaves it loud until then: one job more.
type loudRooms struct {
	mu    sync.Mutex
	known map[int64]bool
}

func (s *Server) roomIsLoud(ctx context.Context, roomID int64) (bool, error) {
	s.loud.mu.Lock()
	loud, ok := s.loud.known[roomID]
	s.loud.mu.Unlock()
	if ok {
		return loud, nil
	}
	s.metrics.NotifyReads.Inc()
	loud, err := s.store.RoomHasNotifyAll(ctx, roomID)
	if err != nil {
		return false, err
	}
	s.loud.mu.Lock()
	s.loud.known[roomID] = loud
	s.loud.mu.Unlock()
	return loud, nil
}

// forgetLoud is told of every per-user event on the cluster.
func (s *Server) forgetLoud(ev chat.UserEvent) {
	if ev.Kind != chat.UserNotify {
		return
	}
	s.loud.mu.Lock()
	delete(s.loud.known, ev.RoomID)
	s.loud.mu.Unlock()
}

// queueNotify adds the notify job of a new message that may concern
// someone personally.
func (s *Server) queueNotify(ctx context.Context, m chat.Message, room chat.Room, author chat.User) {
	if m.Kind != chat.MessageText {
		return
	}
	ctx = context.WithoutCancel(ctx)
	if !room.IsDM() && len(m.Mentions) == 0 && len(m.GroupMembers) == 0 && m.ThreadID == 0 {
		loud, err := s.roomIsLoud(ctx, room.ID)
		if err != nil {
			// Then the job finds whether anyone is concerned.
			s.log.Error("notify: room levels", "room", room.Slug, "err", err)
		} else if !loud {
			return
		}
	}
	s.metrics.NotifyJobs.Inc()
	payload, err := json.Marshal(notifyJob{Message: m, Room: room, Author: author})
	if err == nil {
		_, err = s.jobs.Enqueue(ctx, chat.Job{Kind: jobNotify, Payload: payload, MaxAttempts: notifyAttempts,
			Key: "notify:" + strconv.FormatInt(m.ID, 10)})
	}
	if err != nil {
		s.log.Error("pushes and emails lost: queueing failed", "message", m.ID, "err", err)
	}
}

// runNotify runs a notify job: the pushes and emails of one message.
// Run again after a failure, it adds nothing twice that was added (the
// push jobs are keyed by subscription and message; a missed-activity job
// emails only what was not emailed).
func (s *Server) runNotify(ctx context.Context, j chat.Job) error {
	s.notifyRuns.Add(1)
	var job notifyJob
	if err := json.Unmarshal(j.Payload, &job); err != nil {
		return jobs.Permanent(fmt.Errorf("bad notify job: %w", err))
	}
	return errors.Join(s.queueMissed(ctx, job.Message, job.Room), s.queuePush(ctx, job.Message, job.Room, job.Author))
}
