package handlers

import (
	"context"
	"io"
	"time"

	"agora/chat"
	"agora/db"
	"agora/db/export"
)

// The store as handlers use it: one small interface per responsibility,
// declared here where they are used, so that a handler's needs are read
// in one place and a change to the store's other methods does not reach
// them. db.Store implements them all (checked below); the server holds
// them together as store.
type store interface {
	accountStore
	roomStore
	messageStore
	threadStore
	fileStore
	adminStore
	botStore
	healthStore
	jobStore
	emailStore
	statusStore
	pushStore
	laterStore
	export.Store
}

var _ store = (*db.Store)(nil)

// accountStore is what handlers ask of accounts: users, their sessions,
// tokens and invites.
type accountStore interface {
	SetAvatar(ctx context.Context, userID int64, contentType string, data []byte) (chat.User, error)
	RemoveAvatar(ctx context.Context, userID int64) error
	Avatar(ctx context.Context, username string) (contentType string, data []byte, version int64, err error)
	SetTheme(ctx context.Context, userID int64, theme string) error
	SetLanguage(ctx context.Context, userID int64, code string) error
	CreateFirstUser(ctx context.Context, username, passwordHash string) (chat.User, error)
	CreateInvite(ctx context.Context, codeHash []byte, by int64, maxUses int, expires time.Time) (chat.Invite, error)
	CreateOIDCUser(ctx context.Context, issuer, subject, username, displayName string) (chat.User, error)
	CreateSession(ctx context.Context, tokenHash []byte, userID int64, expires time.Time, userAgent, address string) error
	CreateToken(ctx context.Context, userID int64, name string, tokenHash []byte) (chat.Token, error)
	CreateUser(ctx context.Context, username, displayName, passwordHash string, guest bool) (chat.User, error)
	CreateUserWithInvite(ctx context.Context, codeHash []byte, username, passwordHash string) (chat.User, error)
	DeactivatedSince(ctx context.Context, since time.Time) ([]db.Deactivation, error)
	DeleteSession(ctx context.Context, tokenHash []byte) error
	EndOtherSessions(ctx context.Context, userID int64, keep []byte) ([][]byte, error)
	EndSession(ctx context.Context, userID int64, id string) ([]byte, error)
	HasAccounts(ctx context.Context) (bool, error)
	ImportedAccountByEmail(ctx context.Context, email string) (chat.User, error)
	LinkOIDC(ctx context.Context, userID int64, issuer, subject string) error
	HasSessionFrom(ctx context.Context, userID int64, address string) (bool, error)
	InviteByCode(ctx context.Context, codeHash []byte) (chat.Invite, error)
	Invites(ctx context.Context, limit int) ([]chat.Invite, error)
	NameLooksTaken(ctx context.Context, name string, except int64) (bool, error)
	CreatePasswordLink(ctx context.Context, userID int64, tokenHash []byte, expires time.Time) error
	PasswordLinkUser(ctx context.Context, tokenHash []byte) (chat.User, error)
	People(ctx context.Context, pattern string, limit int) ([]chat.User, error)
	RevokeInvite(ctx context.Context, id int64) error
	RevokeToken(ctx context.Context, userID, tokenID int64) error
	SessionUser(ctx context.Context, tokenHash []byte) (chat.User, error)
	Sessions(ctx context.Context, userID int64, current []byte) ([]chat.Session, error)
	SetDisplayName(ctx context.Context, userID int64, name string) (chat.User, error)
	SetPassword(ctx context.Context, userID int64, passwordHash string, keep []byte) ([][]byte, error)
	TokenUser(ctx context.Context, tokenHash []byte) (chat.User, int64, time.Time, error)
	Tokens(ctx context.Context, userID int64) ([]chat.Token, error)
	TouchSession(ctx context.Context, tokenHash []byte, now time.Time, address string) error
	TouchToken(ctx context.Context, tokenID int64, t time.Time) error
	UsePasswordLink(ctx context.Context, tokenHash []byte, passwordHash string) (chat.User, [][]byte, error)
	UserByID(ctx context.Context, id int64) (chat.User, error)
	UserByOIDC(ctx context.Context, issuer, subject string) (chat.User, error)
	UserByUsername(ctx context.Context, username string) (chat.User, error)
	UserGroups(ctx context.Context, userID int64) ([]string, error)
	UserCredentials(ctx context.Context, username string) (chat.User, string, error)
}

// roomStore is what handlers ask of rooms and direct conversations: who is
// in them, what a user sees of them.
type roomStore interface {
	BrowseRooms(ctx context.Context, userID int64) ([]chat.BrowseRoom, error)
	CreateRoom(ctx context.Context, name, slug string, private bool, creator int64) (chat.Room, error)
	DM(ctx context.Context, a, b chat.User) (chat.Room, bool, error)
	DMPeer(ctx context.Context, roomID, me int64) (chat.User, error)
	DMPeers(ctx context.Context, userID int64) ([]int64, error)
	IsMember(ctx context.Context, roomID, userID int64) (bool, error)
	Join(ctx context.Context, roomID, userID int64) (bool, error)
	Leave(ctx context.Context, roomID, userID int64) (bool, error)
	MarkRead(ctx context.Context, roomID, userID, upTo int64) (int64, error)
	MemberRooms(ctx context.Context, userID int64) ([]chat.Room, error)
	Nav(ctx context.Context, userID int64) ([]chat.NavRoom, error)
	OnUserEvent(fn func(chat.UserEvent))
	ReadReceipts(ctx context.Context, userID int64) (bool, error)
	Receipts(ctx context.Context, roomID int64) (chat.Receipts, error)
	RoomByID(ctx context.Context, id int64) (chat.Room, error)
	RoomBySlug(ctx context.Context, slug string) (chat.Room, error)
	RoomMembers(ctx context.Context, roomID int64) ([]chat.User, error)
	RoomTopic(ctx context.Context, roomID int64) (string, error)
	SetReadReceipts(ctx context.Context, userID int64, on bool) error
	VisibleRooms(ctx context.Context, userID int64) ([]chat.NavRoom, error)
}

// messageStore is what handlers ask of messages and the room log: writing,
// reading, catching up, searching.
type messageStore interface {
	CreateMessage(ctx context.Context, m chat.Message) (chat.Message, bool, error)
	DeleteMessage(ctx context.Context, id int64, by chat.User) (chat.Message, error)
	EditMessage(ctx context.Context, id int64, by chat.User, body string, mentions, groups []string) (chat.Message, error)
	EventsAfter(ctx context.Context, roomID, after int64, limit int) ([]chat.Event, error)
	GroupMentions(ctx context.Context, roomID int64, names []string) (groups []string, members []chat.GroupMember, err error)
	EventsVisible(ctx context.Context, userID, after int64, limit int) ([]chat.Event, error)
	EventsSince(ctx context.Context, after int64, limit int) ([]chat.Event, error)
	LatestEventID(ctx context.Context) (int64, error)
	LatestID(ctx context.Context, roomID int64) (int64, error)
	Marks(ctx context.Context, userID, messageID int64) (pinned, saved bool, err error)
	MessageByID(ctx context.Context, id int64) (chat.Message, error)
	Messages(ctx context.Context, roomID, before int64, limit int) ([]chat.Message, error)
	MessagesAfter(ctx context.Context, roomID, after int64, limit int) ([]chat.Message, error)
	MessagesAround(ctx context.Context, roomID, id int64, limit int) ([]chat.Message, error)
	OnCommit(fn func([]chat.Event))
	Pins(ctx context.Context, userID, roomID int64, limit int) ([]chat.SearchHit, error)
	RoomSeq(ctx context.Context, roomID int64) (int64, error)
	RoomSeqs(ctx context.Context, ids []int64) (map[int64]int64, error)
	RoomVersion(ctx context.Context, roomID int64) (seq, people int64, err error)
	Saved(ctx context.Context, userID int64, limit int) ([]chat.SearchHit, error)
	Search(ctx context.Context, userID int64, q chat.SearchQuery, limit int) ([]chat.SearchHit, error)
	SeqAt(ctx context.Context, roomID, id int64) (int64, error)
	ToggleReaction(ctx context.Context, id int64, by chat.User, emoji string) (chat.Message, error)
	ToggleSaved(ctx context.Context, userID, messageID int64) (bool, error)
	LinkPreview(ctx context.Context, url string) (chat.LinkPreview, error)
	SaveLinkPreview(ctx context.Context, p chat.LinkPreview, imageType string, image []byte) (chat.LinkPreview, error)
	AttachPreview(ctx context.Context, messageID, previewID int64) (chat.Message, error)
	RemovePreview(ctx context.Context, messageID int64, by chat.User) (chat.Message, error)
	PreviewImage(ctx context.Context, messageID int64) (string, []byte, error)
	CreateCustomEmoji(ctx context.Context, name, contentType string, data []byte, by int64) (chat.CustomEmoji, error)
	CustomEmojiList(ctx context.Context) ([]chat.CustomEmoji, error)
	CustomEmojiImage(ctx context.Context, name string) (string, []byte, error)
	HasCustomEmoji(ctx context.Context, name string) (bool, error)
	DeleteCustomEmoji(ctx context.Context, name string) error
}

// threadStore is what handlers ask of threads: their replies, who follows
// them and how far each has read.
type threadStore interface {
	Following(ctx context.Context, userID, rootID int64) (bool, error)
	FollowedThread(ctx context.Context, userID, rootID int64) (chat.NavThread, bool, error)
	LatestReplyID(ctx context.Context, rootID int64) (int64, error)
	MarkThreadRead(ctx context.Context, userID, rootID, upTo int64) error
	Replies(ctx context.Context, rootID, after int64, limit int) ([]chat.Message, error)
	SetFollowing(ctx context.Context, userID, rootID int64, follow bool) error
	ThreadNav(ctx context.Context, userID int64) ([]chat.NavThread, error)
}

// fileStore is what handlers ask of files and the storage they take.
type fileStore interface {
	CreateFile(ctx context.Context, f chat.File, r io.Reader) (chat.File, error)
	DeleteFile(ctx context.Context, id int64) error
	DeletePendingFiles(ctx context.Context, before time.Time) (int64, error)
	FileByID(ctx context.Context, id int64) (chat.File, error)
	FileContent(ctx context.Context, f chat.File) io.Reader
	FileThumb(ctx context.Context, id int64) (string, []byte, error)
	FinishFile(ctx context.Context, f chat.File, thumbType string, thumb []byte) error
	Storage(ctx context.Context, userID int64) (chat.Storage, error)
	TotalStorage(ctx context.Context) (int64, error)
}

// adminStore is what handlers ask of what admins see and change: rooms,
// accounts, limits, the audit list.
type adminStore interface {
	AdminRoom(ctx context.Context, slug string) (chat.AdminRoom, error)
	AdminRooms(ctx context.Context) ([]chat.AdminRoom, error)
	AddGroupMember(ctx context.Context, group, username string) (db.GroupChange, error)
	CreateGroup(ctx context.Context, name string, by int64) (chat.Group, error)
	Groups(ctx context.Context) ([]chat.Group, error)
	RemoveGroupMember(ctx context.Context, group, username string) (db.GroupChange, error)
	Audit(ctx context.Context, actor chat.User, action, target, detail string) error
	AuditLog(ctx context.Context, limit int) ([]chat.AuditEntry, error)
	DeleteRoom(ctx context.Context, roomID int64) error
	DeleteExpired(ctx context.Context, now time.Time, serverDays, limit int) (db.Expired, error)
	HasRoomRetention(ctx context.Context) (bool, error)
	SetRoomRetention(ctx context.Context, roomID int64, days int) error
	SetAdmin(ctx context.Context, userID int64, admin bool) error
	SetDeactivated(ctx context.Context, userID int64, deactivated bool) error
	SetStorageLimit(ctx context.Context, userID, maxBytes int64) error
	Stats(ctx context.Context, from time.Time, days, rooms int) (chat.Stats, error)
	StorageByUser(ctx context.Context) ([]db.UserStorage, error)
	Users(ctx context.Context) ([]chat.User, error)
}

// botStore is what handlers ask of bots and their webhooks' deliveries.
type botStore interface {
	AddBotCommand(ctx context.Context, botID int64, name, description string) error
	BotCommands(ctx context.Context) ([]chat.BotCommand, error)
	RemoveBotCommand(ctx context.Context, botID int64, name string) error
	BotByID(ctx context.Context, userID int64) (chat.Bot, error)
	Bots(ctx context.Context) ([]chat.Bot, error)
	BotsNamed(ctx context.Context, usernames []string) ([]chat.Bot, error)
	CreateBot(ctx context.Context, username string, ownerID int64, webhookURL, secret string, tokenHash []byte) (chat.Bot, error)
	CreateIncomingHook(ctx context.Context, roomID int64, botName string, createdBy int64, secretHash []byte) (hook chat.IncomingHook, joined bool, err error)
	IncomingHookBySecret(ctx context.Context, secretHash []byte) (chat.IncomingHook, error)
	IncomingHooks(ctx context.Context) ([]chat.IncomingHook, error)
	RecordDelivery(ctx context.Context, botID int64, t time.Time, failure string) error
	RevokeIncomingHook(ctx context.Context, id int64) (chat.IncomingHook, error)
	TouchIncomingHook(ctx context.Context, id int64, t time.Time) error
}

// healthStore is what handlers ask of the health check.
type healthStore interface {
	Ping(ctx context.Context) error
}

// jobStore is what the admins' jobs page asks of the job queue (the runner,
// chat/jobs, asks the rest).
type jobStore interface {
	CountJobs(ctx context.Context) (chat.JobCounts, error)
	JobsIn(ctx context.Context, state string, limit int) ([]chat.Job, error)
	RetryJob(ctx context.Context, id int64) (chat.Job, error)
}

// emailStore is what email asks: addresses and their verification, notification
// settings, what a user missed.
type emailStore interface {
	CreateEmailVerification(ctx context.Context, userID int64, email string, hash []byte, expires time.Time) error
	EmailRecipients(ctx context.Context, roomID, authorID int64, dm bool, mentions []string) (map[int64]int, error)
	MarkEmailed(ctx context.Context, userID, through int64) error
	MissedBy(ctx context.Context, userID int64, limit int) ([]chat.Missed, error)
	NotifySettings(ctx context.Context, userID int64) (chat.NotifySettings, error)
	PendingEmail(ctx context.Context, userID int64) (string, error)
	ServerKey(ctx context.Context, name string, fresh []byte) ([]byte, error)
	SetNotifySettings(ctx context.Context, userID int64, n chat.NotifySettings) error
	UserByLogin(ctx context.Context, name string) (chat.User, string, error)
	UserEmail(ctx context.Context, userID int64) (string, error)
	VerifyEmail(ctx context.Context, hash []byte) (chat.User, string, error)
}

// statusStore is what notification levels and statuses ask.
type statusStore interface {
	RoomNotify(ctx context.Context, roomID, userID int64) (string, error)
	RoomHasNotifyAll(ctx context.Context, roomID int64) (bool, error)
	SetRoomNotify(ctx context.Context, roomID, userID int64, level string) error
	SetStatus(ctx context.Context, userID int64, st chat.Status) error
	Status(ctx context.Context, userID int64) (chat.Status, error)
	Statuses(ctx context.Context, userIDs []int64) (map[int64]chat.Status, error)
	TouchActive(ctx context.Context, userID int64, at time.Time) error
}

// pushStore is what Web Push asks: browsers' subscriptions, and whom a
// message is pushed to.
type pushStore interface {
	AddPushSubscription(ctx context.Context, userID int64, sub chat.PushSubscription) error
	DeletePushSubscription(ctx context.Context, userID int64, endpoint string) error
	DropPushSubscription(ctx context.Context, id int64) error
	PushSubscriptionByID(ctx context.Context, id int64) (chat.PushSubscription, error)
	PushSubscriptions(ctx context.Context, userID int64) ([]chat.PushSubscription, error)
	PushTargets(ctx context.Context, roomID, authorID int64, dm bool, mentions []string) ([]chat.PushSubscription, map[int64]chat.NotifySettings, error)
}

// laterStore is what send later and reminders ask: the rows the user sees
// on /scheduled (each with its job), and the account the server speaks as.
type laterStore interface {
	CancelScheduled(ctx context.Context, userID, id int64) error
	EditScheduled(ctx context.Context, userID, id int64, body string, at time.Time) (chat.Scheduled, error)
	FinishScheduled(ctx context.Context, id int64, state string, sentID int64, why string) error
	Schedule(ctx context.Context, sc chat.Scheduled, job chat.Job) (chat.Scheduled, error)
	ScheduledByID(ctx context.Context, id int64) (chat.Scheduled, error)
	ScheduledOf(ctx context.Context, userID int64) ([]chat.Scheduled, error)
	SystemAccount(ctx context.Context, name string) (chat.User, error)
}
