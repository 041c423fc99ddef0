// Package slackimport brings a Slack workspace export into agora: members
// as accounts without passwords (claimed by a reset link, or by signing in
// through OpenID Connect with the same verified email), channels as rooms,
// public or private as the export says, and messages with their original
// times and order, threads, reactions, edits and deletions; files as links
// to where Slack keeps them (the export holds no file contents). Every
// object imported is remembered, so importing again adds nothing. What it
// cannot import it skips, and the report says what and why.
package slackimport

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"agora/chat"
	"agora/chat/mrkdwn"
	"agora/db"
)

// batchSize is how many messages one write carries: a few milliseconds of
// the writer, so a running server's own messages wait little beside it.
const batchSize = 500

// Store is what an import writes to.
type Store interface {
	SlackIDs(ctx context.Context, kind, scope string) (map[string]int64, error)
	NameLooksTaken(ctx context.Context, name string, except int64) (bool, error)
	ImportSlackUser(ctx context.Context, in db.ImportUser) (chat.User, bool, error)
	ImportSlackRoom(ctx context.Context, in db.ImportRoom) (chat.Room, error)
	ImportSlackMessages(ctx context.Context, roomID int64, scope string, msgs []db.ImportMessage) ([]db.ImportResult, error)
	FinishImportedRoom(ctx context.Context, roomID int64, archived bool) error
	UserByID(ctx context.Context, id int64) (chat.User, error)
	RoomByID(ctx context.Context, id int64) (chat.Room, error)
}

// Options say who hears of the progress.
type Options struct {
	// Progress, if set, is told after each day file.
	Progress func(Progress)
}

// Progress is how far an import has come.
type Progress struct {
	Channel  string
	Days, Of int // day files read, of all of the export's
	Messages int // messages read so far
	Imported int // of which stored now
	Already  int // of which stored by an earlier import
}

// Report is what an import did.
type Report struct {
	Users        int // accounts made
	MatchedUsers int // members whose email an account here had: that account
	Bots         int // bot accounts made
	Channels     int // rooms made (or empty ones taken over)
	Messages     int // messages stored, replies included
	Replies      int
	Reactions    int // a person's emoji on a message
	Edited       int
	Deleted      int // stored as deleted, as in Slack
	FileLinks    int // files written as a link to Slack
	Truncated    int // messages cut to agora's length
	// Already are what an earlier import stored: passed over.
	Already struct{ Users, Channels, Messages int }
	Skipped []*Skip // by reason, in the order first met
}

// Skip is something not imported, and why.
type Skip struct {
	Reason   string
	Count    int
	Examples []string // the first few
}

func (r *Report) skip(reason, example string) {
	i := slices.IndexFunc(r.Skipped, func(s *Skip) bool { return s.Reason == reason })
	if i < 0 {
		r.Skipped = append(r.Skipped, &Skip{Reason: reason})
		i = len(r.Skipped) - 1
	}
	s := r.Skipped[i]
	s.Count++
	if len(s.Examples) < 3 && example != "" {
		s.Examples = append(s.Examples, example)
	}
}

// SkippedFor counts what was skipped for reasons starting with prefix.
func (r *Report) SkippedFor(prefix string) int {
	n := 0
	for _, s := range r.Skipped {
		if strings.HasPrefix(s.Reason, prefix) {
			n += s.Count
		}
	}
	return n
}

// Reasons for skipping, the start of each report line.
const (
	SkipUnsafeEntry   = "zip entries that name a place outside the export (never read)"
	SkipBadJSON       = "files that are not valid JSON"
	SkipBadChannel    = "channels whose name is not a valid room name (with their messages)"
	SkipUnknownUser   = "messages by a user id that users.json does not have"
	SkipNotice        = "join, leave and channel notices (members and topics come from channels.json)"
	SkipNoText        = "messages with nothing to show"
	SkipBadTS         = "entries that are not a message with a valid ts"
	SkipEmoji         = "reactions with an emoji agora does not have (custom emoji)"
	SkipUnknownMember = "channel members or reactions by a user id that users.json does not have"
	SkipOrphan        = "replies whose thread start is not in the export (stored as messages of the room)"
	SkipNoFolder      = "channels without a folder of messages"
	SkipUser          = "users that could not be made"
	SkipDirect        = "direct and group direct conversations (dms.json, mpims.json): not imported, being private to their members"
)

type importer struct {
	store    Store
	src      *source
	opt      Options
	rep      Report
	users    map[string]int64 // Slack user id -> account
	names    map[string]string
	bots     map[string]int64 // Slack bot id -> account
	rooms    map[string]int64 // Slack channel id -> room
	slugs    map[string]string
	progress Progress
}

// Import reads the export at path (a zip or a directory) into the store.
func Import(ctx context.Context, store Store, path string, opt Options) (Report, error) {
	src, err := openSource(path)
	if err != nil {
		return Report{}, fmt.Errorf("import-slack: %w", err)
	}
	defer src.Close()
	im := &importer{store: store, src: src, opt: opt, names: map[string]string{}, slugs: map[string]string{}}
	for _, name := range src.unsafe {
		im.rep.skip(SkipUnsafeEntry, name)
	}
	if err := im.importUsers(ctx); err != nil {
		return im.rep, err
	}
	channels, err := im.channels()
	if err != nil {
		return im.rep, err
	}
	im.countDirect()
	if im.rooms, err = store.SlackIDs(ctx, db.SlackChannel, ""); err != nil {
		return im.rep, err
	}
	type work struct {
		ch   slackChannel
		slug string
		days []string
	}
	var todo []work
	for _, ch := range channels {
		slug, ok := im.validChannel(ch)
		if !ok {
			continue
		}
		days, err := src.days(ch.Name)
		if err != nil {
			im.rep.skip(SkipNoFolder, ch.Name)
			continue
		}
		todo = append(todo, work{ch, slug, days})
		im.progress.Of += len(days)
	}
	for _, w := range todo {
		roomID, err := im.room(ctx, w.ch, w.slug)
		if err != nil {
			return im.rep, err
		}
		if err := im.importChannel(ctx, w.ch, roomID, w.days); err != nil {
			return im.rep, err
		}
		if err := store.FinishImportedRoom(ctx, roomID, w.ch.IsArchived); err != nil {
			return im.rep, err
		}
	}
	return im.rep, nil
}

// importUsers makes an account of each member not imported before.
func (im *importer) importUsers(ctx context.Context) error {
	data, err := im.src.readFile("users.json")
	if err != nil {
		return fmt.Errorf("import-slack: users.json: %w (is this a Slack workspace export?)", err)
	}
	users, err := decodeList[slackUser](data)
	if err != nil {
		return fmt.Errorf("import-slack: users.json is not a list of users: %w", err)
	}
	if im.users, err = im.store.SlackIDs(ctx, db.SlackUser, ""); err != nil {
		return err
	}
	if im.bots, err = im.store.SlackIDs(ctx, db.SlackBot, ""); err != nil {
		return err
	}
	for _, u := range users {
		if u.ID == "" {
			im.rep.skip(SkipUser, "an entry without an id")
			continue
		}
		if id, ok := im.users[u.ID]; ok {
			if u.IsBot && u.Profile.BotID != "" {
				im.bots[u.Profile.BotID] = id
			}
			im.rep.Already.Users++
			if acct, err := im.store.UserByID(ctx, id); err == nil {
				im.names[u.ID] = acct.Username
			}
			continue
		}
		display := firstOf(u.Profile.DisplayName, u.Profile.RealName, u.RealName)
		in := db.ImportUser{Kind: db.SlackUser, SlackID: u.ID, Email: strings.TrimSpace(u.Profile.Email),
			Admin: (u.IsAdmin || u.IsOwner) && !u.IsBot, Bot: u.IsBot, Deactivated: u.Deleted}
		acct, matched, err := im.makeAccount(ctx, in, firstOf(u.Name, u.Profile.DisplayName, u.Profile.Email), display)
		if err != nil {
			im.rep.skip(SkipUser, u.ID+": "+chat.ErrorMessage(err))
			continue
		}
		im.users[u.ID] = acct.ID
		im.names[u.ID] = acct.Username
		if u.IsBot && u.Profile.BotID != "" {
			// Its messages may carry only its bot_id: they are its own,
			// not a second account's.
			im.bots[u.Profile.BotID] = acct.ID
		}
		switch {
		case matched:
			im.rep.MatchedUsers++
		case u.IsBot:
			im.rep.Bots++
		default:
			im.rep.Users++
		}
	}
	return nil
}

// makeAccount makes the account, named from name (cleaned, made unique:
// ann, ann2, ...), its display name dropped if it could pass for someone
// else's username.
func (im *importer) makeAccount(ctx context.Context, in db.ImportUser, name, display string) (chat.User, bool, error) {
	if d, err := chat.ValidateDisplayName(display); err == nil && d != "" {
		if taken, err := im.store.NameLooksTaken(ctx, d, 0); err != nil {
			return chat.User{}, false, err
		} else if !taken {
			in.DisplayName = d
		}
	}
	if in.Email != "" {
		// The account that has the email, whatever its name.
		match := in
		match.MatchOnly = true
		u, matched, err := im.store.ImportSlackUser(ctx, match)
		if chat.ErrorCode(err) != chat.ENotFound {
			return u, matched, err
		}
	}
	base := chat.CleanUsername(name)
	for i := 1; i <= 100; i++ {
		in.Username = base
		if i > 1 {
			in.Username = base + strconv.Itoa(i)
		}
		if taken, err := im.store.NameLooksTaken(ctx, in.Username, 0); err != nil {
			return chat.User{}, false, err
		} else if taken {
			continue
		}
		u, matched, err := im.store.ImportSlackUser(ctx, in)
		if chat.ErrorCode(err) == chat.EConflict {
			continue
		}
		return u, matched, err
	}
	return chat.User{}, false, chat.Errorf(chat.EConflict, "no free username like %q", base)
}

// bot is the account of a bot that posted as bot_id without a user.
func (im *importer) bot(ctx context.Context, m slackMessage) (int64, error) {
	if id, ok := im.bots[m.BotID]; ok {
		return id, nil
	}
	name := m.Username
	if name == "" && m.BotProfile != nil {
		name = m.BotProfile.Name
	}
	if name == "" {
		name = "bot"
	}
	u, _, err := im.makeAccount(ctx, db.ImportUser{Kind: db.SlackBot, SlackID: m.BotID, Bot: true}, name, name)
	if err != nil {
		return 0, err
	}
	im.bots[m.BotID] = u.ID
	im.rep.Bots++
	return u.ID, nil
}

// channels reads channels.json and groups.json (private channels), once
// each by id.
func (im *importer) channels() ([]slackChannel, error) {
	var out []slackChannel
	seen := map[string]bool{}
	for _, f := range []struct {
		name     string
		private  bool
		required bool
	}{{"channels.json", false, true}, {"groups.json", true, false}} {
		if !f.required && !im.src.exists(f.name) {
			continue
		}
		data, err := im.src.readFile(f.name)
		if err != nil {
			return nil, fmt.Errorf("import-slack: %s: %w", f.name, err)
		}
		list, err := decodeList[slackChannel](data)
		if err != nil {
			if f.required {
				return nil, fmt.Errorf("import-slack: %s is not a list of channels: %w", f.name, err)
			}
			im.rep.skip(SkipBadJSON, f.name+": "+err.Error())
			continue
		}
		for _, ch := range list {
			if ch.ID == "" || seen[ch.ID] {
				continue
			}
			seen[ch.ID] = true
			ch.IsPrivate = ch.IsPrivate || f.private
			out = append(out, ch)
		}
	}
	return out, nil
}

// countDirect reports the export's direct conversations as skipped: an
// export has them only when Slack's owner chose to, and their members
// never agreed to have them copied.
func (im *importer) countDirect() {
	for _, name := range []string{"dms.json", "mpims.json"} {
		if !im.src.exists(name) {
			continue
		}
		data, err := im.src.readFile(name)
		if err != nil {
			continue
		}
		list, err := decodeList[slackChannel](data)
		if err != nil {
			im.rep.skip(SkipBadJSON, name+": "+err.Error())
			continue
		}
		for _, d := range list {
			im.rep.skip(SkipDirect, name+" "+d.ID)
		}
	}
}

// validChannel checks that a channel's name makes a room name and names a
// folder inside the export.
func (im *importer) validChannel(ch slackChannel) (slug string, ok bool) {
	_, slug, err := chat.ValidateRoomName(ch.Name)
	if err == nil && (!fs.ValidPath(ch.Name) || strings.ContainsAny(ch.Name, `/\:`) || ch.Name == ".") {
		err = chat.Errorf(chat.EInvalid, "It names a folder outside its own.")
	}
	if err != nil {
		im.rep.skip(SkipBadChannel, strconv.Quote(ch.Name)+": "+chat.ErrorMessage(err))
		return "", false
	}
	return slug, true
}

// room is the channel's room: made now, or by an earlier import.
func (im *importer) room(ctx context.Context, ch slackChannel, slug string) (int64, error) {
	if id, ok := im.rooms[ch.ID]; ok {
		im.rep.Already.Channels++
		if r, err := im.store.RoomByID(ctx, id); err == nil {
			im.slugs[ch.ID] = r.Slug
		}
		return id, nil
	}
	in := db.ImportRoom{SlackID: ch.ID, Name: ch.Name, Private: ch.IsPrivate, CreatedBy: im.users[ch.Creator]}
	in.CreatedAt = time.Unix(ch.Created, 0)
	if ch.Created <= 0 {
		in.CreatedAt = time.Now()
	}
	if t, err := chat.ValidateTopic(im.text(firstOf(ch.Topic.Value, ch.Purpose.Value))); err == nil {
		in.Topic = t
	} else if t, err := chat.ValidateTopic(truncate(im.text(firstOf(ch.Topic.Value, ch.Purpose.Value)), chat.MaxTopicChars)); err == nil {
		in.Topic = t
	}
	for _, m := range ch.Members {
		if id, ok := im.users[m]; ok {
			in.Members = append(in.Members, id)
		} else {
			im.rep.skip(SkipUnknownMember, m)
		}
	}
	for i := 1; i <= 20; i++ {
		in.Slug = slug
		if i > 1 {
			in.Slug = slug + "-" + strconv.Itoa(i)
			in.Name = ch.Name + "-" + strconv.Itoa(i)
		}
		r, err := im.store.ImportSlackRoom(ctx, in)
		if chat.ErrorCode(err) == chat.EConflict {
			continue
		}
		if err != nil {
			return 0, err
		}
		im.rep.Channels++
		im.rooms[ch.ID] = r.ID
		im.slugs[ch.ID] = r.Slug
		return r.ID, nil
	}
	return 0, fmt.Errorf("import-slack: no free room name like %q", slug)
}

// importChannel stores the channel's messages, day by day, in batches.
func (im *importer) importChannel(ctx context.Context, ch slackChannel, roomID int64, days []string) error {
	known, err := im.store.SlackIDs(ctx, db.SlackMessage, ch.ID)
	if err != nil {
		return err
	}
	im.progress.Channel = ch.Name
	var batch []db.ImportMessage
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		res, err := im.store.ImportSlackMessages(ctx, roomID, ch.ID, batch)
		if err != nil {
			return err
		}
		for i, r := range res {
			m := batch[i]
			if r.ID == 0 {
				im.rep.Already.Messages++
				im.progress.Already++
				continue
			}
			im.progress.Imported++
			im.rep.Messages++
			if r.Orphaned {
				im.rep.skip(SkipOrphan, ch.Name+" "+m.SlackID)
			} else if m.Thread != "" {
				im.rep.Replies++
			}
			if !m.EditedAt.IsZero() {
				im.rep.Edited++
			}
			if m.Deleted {
				im.rep.Deleted++
			}
			for _, re := range m.Reactions {
				im.rep.Reactions += len(re.Users)
			}
		}
		batch = batch[:0]
		return nil
	}
	for _, day := range days {
		if err := ctx.Err(); err != nil {
			return err
		}
		data, err := im.src.readFile(day)
		var msgs []slackMessage
		if err == nil {
			msgs, err = decodeList[slackMessage](data)
		}
		if err != nil {
			im.rep.skip(SkipBadJSON, day+": "+err.Error())
		}
		slices.SortStableFunc(msgs, func(a, b slackMessage) int { return compareTS(a.TS, b.TS) })
		for _, m := range msgs {
			im.progress.Messages++
			if _, ok := known[m.TS]; ok && m.TS != "" {
				im.rep.Already.Messages++
				im.progress.Already++
				continue
			}
			in, ok, err := im.message(ctx, ch, m)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			known[m.TS] = 0
			if batch = append(batch, in); len(batch) == batchSize {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
		im.progress.Days++
		if im.opt.Progress != nil {
			im.opt.Progress(im.progress)
		}
	}
	return flush()
}

// message turns a Slack message into what agora stores, or says why not.
func (im *importer) message(ctx context.Context, ch slackChannel, m slackMessage) (db.ImportMessage, bool, error) {
	where := ch.Name + " " + m.TS
	at, ok := tsTime(m.TS)
	if m.Type != "message" && m.Type != "" || !ok {
		im.rep.skip(SkipBadTS, where)
		return db.ImportMessage{}, false, nil
	}
	switch m.Subtype {
	case "channel_join", "channel_leave", "group_join", "group_leave", "channel_topic", "channel_purpose", "channel_name",
		"group_topic", "group_purpose", "group_name", "channel_archive", "channel_unarchive", "group_archive", "group_unarchive",
		"pinned_item", "unpinned_item", "bot_add", "bot_remove":
		im.rep.skip(SkipNotice, "")
		return db.ImportMessage{}, false, nil
	}
	out := db.ImportMessage{SlackID: m.TS, At: at, Deleted: m.Subtype == "tombstone" || m.Subtype == "message_deleted"}
	switch id, known := im.users[m.User]; {
	case m.User != "" && known:
		out.AuthorID = id
	case m.User == "" && m.BotID != "":
		id, err := im.bot(ctx, m)
		if err != nil {
			im.rep.skip(SkipUser, m.BotID+": "+chat.ErrorMessage(err))
			return db.ImportMessage{}, false, nil
		}
		out.AuthorID = id
	case m.User == "USLACKBOT" || out.Deleted && m.User == "":
		id, err := im.bot(ctx, slackMessage{BotID: "USLACKBOT", Username: "slackbot"})
		if err != nil {
			return db.ImportMessage{}, false, err
		}
		out.AuthorID = id
	default:
		im.rep.skip(SkipUnknownUser, where+" by "+strconv.Quote(m.User))
		return db.ImportMessage{}, false, nil
	}
	if m.ThreadTS != "" && m.ThreadTS != m.TS {
		out.Thread = m.ThreadTS
		out.InRoom = m.Subtype == "thread_broadcast"
	}
	if m.Edited != nil {
		if t, ok := tsTime(m.Edited.TS); ok {
			out.EditedAt = t
		}
	}
	if out.Deleted {
		return out, true, nil
	}
	body, _ := mrkdwn.Payload{Text: im.mapRefs(m.Text), Attachments: m.Attachments}.Body()
	var files []string
	for _, f := range m.Files {
		name := firstOf(f.Name, f.Title, f.ID, "file")
		link := firstOf(f.Permalink, f.URLPrivate)
		switch {
		case f.Mode == "tombstone" || f.Mode == "hidden_by_limit" || link == "":
			files = append(files, "📎 "+mrkdwn.Convert(name)+" (a file not in the export)")
		default:
			files = append(files, "📎 "+mrkdwn.Convert("<"+link+"|"+strings.NewReplacer("|", " ", ">", " ").Replace(name)+">"))
		}
	}
	if len(files) > 0 {
		body = strings.TrimSpace(body + "\n" + strings.Join(files, "\n"))
	}
	body = strings.Map(func(r rune) rune {
		if r < ' ' && r != '\n' && r != '\t' || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(chat.ReplaceShortcodes(body), "\uFFFD"))
	if utf8.RuneCountInString(strings.TrimSpace(body)) > chat.MaxBodyChars {
		body = truncate(strings.TrimSpace(body), chat.MaxBodyChars)
		im.rep.Truncated++
	}
	valid, err := chat.ValidateBody(body)
	if err != nil {
		im.rep.skip(SkipNoText, where)
		return db.ImportMessage{}, false, nil
	}
	out.Body = valid
	im.rep.FileLinks += len(files)
	for _, r := range m.Reactions {
		emoji, ok := reactionEmoji(r.Name)
		if !ok {
			im.rep.skip(SkipEmoji, ":"+r.Name+":")
			continue
		}
		re := db.ImportReaction{Emoji: emoji}
		for _, u := range r.Users {
			if id, ok := im.users[u]; ok {
				re.Users = append(re.Users, id)
			} else {
				im.rep.skip(SkipUnknownMember, u)
			}
		}
		if len(re.Users) > 0 {
			out.Reactions = append(out.Reactions, re)
		}
	}
	return out, true, nil
}

// mapRefs writes Slack's <@U123|label> as <@username> and <#C123|label> as
// <#slug>, for the names people have here; mrkdwn.Convert does the rest.
func (im *importer) mapRefs(s string) string {
	if !strings.Contains(s, "<@") && !strings.Contains(s, "<#") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 || i+1 >= len(s) {
			b.WriteString(s)
			return b.String()
		}
		end := strings.IndexByte(s[i:], '>')
		if end < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		inner := s[i+1 : i+end]
		id, _, _ := strings.Cut(inner, "|")
		switch {
		case strings.HasPrefix(id, "@") && im.username(id[1:]) != "":
			b.WriteString("<@" + im.username(id[1:]) + ">")
		case strings.HasPrefix(id, "#") && im.slugs[id[1:]] != "":
			b.WriteString("<#" + im.slugs[id[1:]] + ">")
		default:
			b.WriteString(s[i : i+end+1])
		}
		s = s[i+end+1:]
	}
}

// username is the username of an imported member, "" for none.
func (im *importer) username(slackID string) string {
	return im.names[slackID]
}

// text is Slack text (a topic) as agora text.
func (im *importer) text(s string) string { return mrkdwn.Convert(im.mapRefs(s)) }

// reactionEmoji is the emoji of a Slack reaction's name ("+1",
// "thumbsup::skin-tone-2"), if agora has it.
func reactionEmoji(name string) (string, bool) {
	name, _, _ = strings.Cut(name, "::")
	e := chat.ReplaceShortcodes(":" + name + ":")
	if e == ":"+name+":" || chat.ValidateEmoji(e) != nil {
		return "", false
	}
	return e, true
}

// compareTS orders Slack timestamps as times.
func compareTS(a, b string) int {
	ta, _ := tsTime(a)
	tb, _ := tsTime(b)
	return ta.Compare(tb)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

func firstOf(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
