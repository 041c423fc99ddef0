// Package export writes a zip of a server's data, or of one person's,
// streaming from the store: users.jsonl, rooms.jsonl, messages/{room}.jsonl
// (with reactions and edits) and files/{id}/{name}. Rows are read a page at
// a time and files a chunk at a time, so memory stays flat however large
// the server is. Password hashes, sessions and tokens are never read.
package export

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strconv"
	"time"

	"agora/chat"
	"agora/db"
)

// page is how many rows one query reads.
const page = 500

// Options say what to export and who hears of the progress.
type Options struct {
	// UserID 0 exports everything; otherwise one person's own data: their
	// account, the rooms they are in or wrote in, their own messages there,
	// every message of their direct conversations, and those messages' files.
	UserID int64
	// Progress, if set, is told after each message page and each file.
	Progress func(Progress)
}

// Progress is how far an export has come, beside what it will write in all.
type Progress struct {
	Done  db.ExportTotals
	Total db.ExportTotals
	Room  string // the room being written
}

// Summary is what an export wrote.
type Summary struct {
	Users, Rooms int
	db.ExportTotals
	Bytes int64 // of the zip
}

// User is a line of users.jsonl: what an account is, never its secrets.
type User struct {
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name,omitempty"`
	Admin       bool      `json:"admin,omitempty"`
	Bot         bool      `json:"bot,omitempty"`
	Guest       bool      `json:"guest,omitempty"`
	Deactivated bool      `json:"deactivated,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// Room is a line of rooms.jsonl.
type Room struct {
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	Kind      string    `json:"kind"` // "room" or "dm"
	Private   bool      `json:"private,omitempty"`
	Archived  bool      `json:"archived,omitempty"`
	Topic     string    `json:"topic,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Members   []string  `json:"members"`
	Messages  string    `json:"messages"` // the path of its messages file in the zip
}

// Message is a line of messages/{room}.jsonl.
type Message struct {
	ID        int64      `json:"id"`
	Author    string     `json:"author"`
	Kind      string     `json:"kind"` // "text" or "notice"
	Body      string     `json:"body"`
	CreatedAt time.Time  `json:"created_at"`
	EditedAt  *time.Time `json:"edited_at,omitempty"`
	DeletedAt *time.Time `json:"deleted_at,omitempty"`
	Reactions []Reaction `json:"reactions,omitempty"`
	File      *File      `json:"file,omitempty"`
	// ThreadID is the root (in the same file, before it) of a reply's
	// thread; AlsoToRoom says the reply showed in the room's list too.
	ThreadID   int64 `json:"thread_id,omitempty"`
	AlsoToRoom bool  `json:"also_to_room,omitempty"`
}

// Reaction is an emoji and who reacted with it, in order.
type Reaction struct {
	Emoji string   `json:"emoji"`
	Users []string `json:"users"`
}

// File is a message's file, and where its content is in the zip.
type File struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	Path        string `json:"path"`
}

// Store is what an export reads, a page at a time.
type Store interface {
	ExportTotals(ctx context.Context, userID int64) (db.ExportTotals, error)
	ExportRooms(ctx context.Context, userID int64) ([]db.ExportRoom, error)
	UserByID(ctx context.Context, id int64) (chat.User, error)
	UsersAfter(ctx context.Context, after int64, limit int) ([]chat.User, error)
	MemberNames(ctx context.Context, roomID int64) ([]string, error)
	AuthorMessagesAfter(ctx context.Context, roomID, authorID, after int64, limit int) ([]chat.Message, error)
	AllMessagesAfter(ctx context.Context, roomID, after int64, limit int) ([]chat.Message, error)
	FileByID(ctx context.Context, id int64) (chat.File, error)
	FileContent(ctx context.Context, f chat.File) io.Reader
}

// Write writes the zip to w.
func Write(ctx context.Context, store Store, w io.Writer, opt Options) (Summary, error) {
	cw := &countWriter{w: w}
	e := &exporter{store: store, zw: zip.NewWriter(cw), opt: opt}
	var err error
	if e.progress.Total, err = store.ExportTotals(ctx, opt.UserID); err != nil {
		return Summary{}, err
	}
	if err := e.users(ctx); err != nil {
		return Summary{}, err
	}
	rooms, err := store.ExportRooms(ctx, opt.UserID)
	if err != nil {
		return Summary{}, err
	}
	if err := e.rooms(ctx, rooms); err != nil {
		return Summary{}, err
	}
	for _, r := range rooms {
		if err := e.messages(ctx, r.Room); err != nil {
			return Summary{}, err
		}
	}
	if err := e.zw.Close(); err != nil {
		return Summary{}, fmt.Errorf("export: %w", err)
	}
	return Summary{Users: e.nUsers, Rooms: len(rooms), ExportTotals: e.progress.Done, Bytes: cw.n}, nil
}

type exporter struct {
	store    Store
	zw       *zip.Writer
	opt      Options
	progress Progress
	nUsers   int
}

// entry starts a file in the zip; deflated unless it is a stored file, whose
// content is mostly compressed already (images, archives).
func (e *exporter) entry(name string, deflate bool, modified time.Time) (io.Writer, error) {
	method := zip.Store
	if deflate {
		method = zip.Deflate
	}
	if modified.IsZero() {
		modified = time.Now()
	}
	w, err := e.zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: modified})
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", name, err)
	}
	return w, nil
}

func (e *exporter) users(ctx context.Context) error {
	w, err := e.entry("users.jsonl", true, time.Time{})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	write := func(u chat.User) error {
		e.nUsers++
		return enc.Encode(User{Username: u.Username, DisplayName: u.DisplayName, Admin: u.IsAdmin, Bot: u.IsBot,
			Guest: u.IsGuest, Deactivated: u.Deactivated, CreatedAt: u.CreatedAt})
	}
	if e.opt.UserID != 0 {
		u, err := e.store.UserByID(ctx, e.opt.UserID)
		if err != nil {
			return err
		}
		return write(u)
	}
	for after := int64(0); ; {
		users, err := e.store.UsersAfter(ctx, after, page)
		if err != nil {
			return err
		}
		for _, u := range users {
			if err := write(u); err != nil {
				return fmt.Errorf("export users: %w", err)
			}
			after = u.ID
		}
		if len(users) < page {
			return nil
		}
	}
}

// messagesPath is where a room's messages go: by slug, which is unique and
// safe in a path (a direct conversation's is dm-{id}-{id}).
func messagesPath(r chat.Room) string { return "messages/" + r.Slug + ".jsonl" }

func (e *exporter) rooms(ctx context.Context, rooms []db.ExportRoom) error {
	w, err := e.entry("rooms.jsonl", true, time.Time{})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, r := range rooms {
		members, err := e.store.MemberNames(ctx, r.ID)
		if err != nil {
			return err
		}
		if members == nil {
			members = []string{}
		}
		if err := enc.Encode(Room{Slug: r.Slug, Name: r.Name, Kind: r.Kind, Private: r.Private, Archived: r.Archived,
			Topic: r.Topic, CreatedAt: r.CreatedAt, Members: members, Messages: messagesPath(r.Room)}); err != nil {
			return fmt.Errorf("export rooms: %w", err)
		}
	}
	return nil
}

// messages writes a room's messages, then the files they carry (a zip is
// written one entry at a time).
func (e *exporter) messages(ctx context.Context, r chat.Room) error {
	w, err := e.entry(messagesPath(r), true, time.Time{})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	e.progress.Room = r.Slug
	// One person's export has all of their direct conversations, and only
	// their own messages elsewhere.
	own := e.opt.UserID != 0 && !r.IsDM()
	var fileIDs []int64 // written after the room's messages: 8 bytes each meanwhile
	for after := int64(0); ; {
		var msgs []chat.Message
		if own {
			msgs, err = e.store.AuthorMessagesAfter(ctx, r.ID, e.opt.UserID, after, page)
		} else {
			msgs, err = e.store.AllMessagesAfter(ctx, r.ID, after, page)
		}
		if err != nil {
			return err
		}
		for _, m := range msgs {
			line := Message{ID: m.ID, Author: m.Author, Kind: m.Kind, Body: m.Body, CreatedAt: m.CreatedAt,
				EditedAt: timeOrNil(m.EditedAt), DeletedAt: timeOrNil(m.DeletedAt), ThreadID: m.ThreadID, AlsoToRoom: m.InRoom}
			for _, re := range m.Reactions {
				line.Reactions = append(line.Reactions, Reaction{Emoji: re.Emoji, Users: re.Users})
			}
			if m.File != nil {
				line.File = &File{Name: m.File.Name, ContentType: m.File.ContentType, Size: m.File.Size, Path: filePath(*m.File)}
				fileIDs = append(fileIDs, m.File.ID)
			}
			if err := enc.Encode(line); err != nil {
				return fmt.Errorf("export messages: %w", err)
			}
			after = m.ID
		}
		e.progress.Done.Messages += int64(len(msgs))
		e.tell()
		if len(msgs) < page {
			break
		}
	}
	for _, id := range fileIDs {
		f, err := e.store.FileByID(ctx, id)
		if chat.ErrorCode(err) == chat.ENotFound {
			continue // deleted since its message was read
		}
		if err != nil {
			return err
		}
		fw, err := e.entry(filePath(f), false, f.CreatedAt)
		if err != nil {
			return err
		}
		n, err := io.Copy(fw, e.store.FileContent(ctx, f))
		if err != nil {
			return fmt.Errorf("export file %d: %w", f.ID, err)
		}
		e.progress.Done.Files++
		e.progress.Done.FileBytes += n
		e.tell()
	}
	return nil
}

func filePath(f chat.File) string {
	return path.Join("files", strconv.FormatInt(f.ID, 10), chat.CleanFileName(f.Name))
}

func (e *exporter) tell() {
	if e.opt.Progress != nil {
		e.opt.Progress(e.progress)
	}
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// countWriter counts what goes through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
