// Package handlers is agora's HTTP edge: every route, the middleware around
// them, the pages and forms, the room sockets. It wires chat, db and views.
package handlers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	"golang.org/x/sync/semaphore"

	"agora/chat"
	"agora/chat/jobs"
	"agora/chat/live"
	"agora/chat/live/relay"
	"agora/chat/mail"
	"agora/chat/media"
	"agora/db"
	"agora/handlers/metrics"
	"agora/views"
)

// Config is what the server is built from.
type Config struct {
	Store *db.Store
	Hub   *live.Hub
	// TailEvery is how often the relay checks the rooms served here against
	// the store, for events whose hand-over was lost. Default 500ms.
	TailEvery time.Duration
	Log       *slog.Logger
	Assets    fs.FS // the static files: app.css, app.js, vendor/...
	Guests    bool  // allow guest sign-in with a display name only
	// TrustProxy says a reverse proxy on a loopback or private address is
	// in front: its X-Forwarded-For names the client (for the login and
	// signup limits) and its X-Forwarded-Proto says whether the visit is
	// over TLS (for the cookie). Without it those headers are ignored: anyone
	// could write them.
	TrustProxy bool
	// Metrics, when set, is where the server counts what it does (for
	// -metrics); without it the server counts into a set nobody reads.
	Metrics *metrics.Set
	// PingEvery is how often a room socket is pinged; a client that does not
	// answer within pingWait is closed. Default 25 s.
	PingEvery time.Duration
	// WebhooksPrivate lets bots' webhooks reach loopback and private
	// addresses (a bot on the same machine or network). Off, only public
	// addresses are dialled.
	WebhooksPrivate bool
	// WebhookTimeout bounds one webhook delivery, reply included. Default 5 s.
	WebhookTimeout time.Duration
	// Jobs runs the background work (webhook deliveries, emails) kept in
	// Store's job queue. New registers the server's kinds of job on it; the
	// caller starts it after New and stops it after Shutdown. Nil: the
	// server makes its own, with the default options, and starts and stops
	// it itself.
	Jobs *jobs.Runner
	// Mail sends email (-smtp); nil: email is off, and the pages that need
	// it say so.
	Mail *mail.Sender
	// PublicURL is where people reach this server (-public-url), such as
	// https://chat.example.com: the start of every link in an email. Empty:
	// links are made from the request that asks for them.
	PublicURL string
	// MissedEmailGrace is the least time a mention or direct message waits
	// before a missed-activity email (for a delay of 0). Default 5 s.
	MissedEmailGrace time.Duration
	// MaxUpload is the largest file one upload may carry, in bytes
	// (DefaultMaxUpload when 0).
	MaxUpload int64
	// StorageQuota is how many bytes of files each account may keep unless
	// an admin sets its own limit (DefaultStorageQuota when 0; none when
	// negative); StorageTotal is how many all accounts together may (0 or
	// less: no total).
	StorageQuota, StorageTotal int64
	// DecodeBudget is the most memory, in bytes, that decoding one picture
	// for its thumbnail may take, and all decodes at once together
	// (media.DefaultDecodeBudget when 0). A picture that would take more
	// stays a download.
	DecodeBudget int64
	// UploadGrace and UploadMinRate bound how slowly an upload may arrive:
	// after UploadGrace, at least UploadMinRate bytes a second on average
	// since it began, or it is cut off with 408. Defaults
	// DefaultUploadGrace and DefaultUploadMinRate.
	UploadGrace   time.Duration
	UploadMinRate int64
	// Signup says who may make an account: "open" (anyone, the default),
	// "invite" (only with an admin's invite link) or "closed" (invites only,
	// made by admins; the sign-up page says how to get in).
	Signup string
	// AccountCheckEvery is how often the server looks in the store for
	// accounts deactivated by another process, to close their sockets.
	// Default 2 s.
	AccountCheckEvery time.Duration
	// StatusEvery is how often the server reads the statuses of the people
	// online, to show who went away or changed their status on another
	// node. Default 30 s.
	StatusEvery time.Duration
	// Retention is how many days messages (and their files) are kept in
	// rooms without a retention of their own (-retention); 0 keeps them for
	// ever. The job queue deletes older ones at start and daily.
	Retention int
	// Now is the clock statuses are told by (away after ten idle minutes,
	// do not disturb until a time): time.Now unless a test moves its own.
	Now func() time.Time
	// PushSubject is the contact a push service is given in the VAPID
	// token's sub (-push-subject: mailto:... or https://...), exactly.
	PushSubject string
	// PushPrivate lets push endpoints be on loopback and private addresses
	// (-push-private), for a push service on this machine or network.
	PushPrivate bool
	// PushTimeout bounds one push, connection included. Default 10 s.
	PushTimeout time.Duration
	// OIDC, when set, signs people in with an OpenID Connect provider.
	OIDC *OIDC
	// Unfurl turns link previews on (-unfurl): the job queue fetches the
	// first page a message links to. UnfurlPrivate lets it fetch from
	// loopback and private addresses (-unfurl-private); UnfurlTimeout bounds
	// one fetch, redirects and body included (default 5 s).
	Unfurl        bool
	UnfurlPrivate bool
	UnfurlTimeout time.Duration
	// NoPasswordLogin refuses password login and sign-up (403): with OIDC,
	// the provider is the only way in (and `agora users` for operators).
	NoPasswordLogin bool
}

// Signup modes.
const (
	SignupOpen   = "open"
	SignupInvite = "invite"
	SignupClosed = "closed"
)

// Server is agora's HTTP handler.
type Server struct {
	store        store
	hub          *live.Hub
	relay        *relay.Relay
	publish      atomic.Pointer[publisher] // where committed events go: the relay, or the cluster and the relay
	closer       socketCloser
	typer        typer
	shareSpend   func(key string) // tells other nodes of a spent login token; nil alone
	log          *slog.Logger
	assets       fs.FS
	assetVersion string
	guests       bool
	trustProxy   bool
	signup       string
	echo         *echo.Echo
	cop          *http.CrossOriginProtection
	metrics      *metrics.Set
	pingEvery    time.Duration

	loginLimits   *limiterSet // per client address (and address and account), against password guessing
	accountLimits *limiterSet // per account, against guessing from many addresses
	postLimits    *limiterSet // messages per user, across all their sockets and forms
	frameLimits   *limiterSet // socket frames per user, across all their sockets
	hooks         *webhooks
	previews      *previews // nil: link previews are off
	jobs          *jobs.Runner
	mail          *mail.Sender
	publicURL     string
	mailLimits    *limiterSet // links mailed per user and per client address
	missedGrace   time.Duration
	unsub         unsubscribeKeys
	botCmds       botCommands  // the commands bots registered, kept a short while
	ownJobs       bool         // the runner is the server's own, started and stopped with it
	retention     int          // days, for rooms without their own; 0: for ever
	streams       *streams     // the API's event streams
	streamCount   *socketCount // open event streams per user and per client address
	replayLimits  *limiterSet  // event stream replays (Last-Event-ID behind the latest) per user
	apiLimits     *limiterSet  // API requests per token
	apiWrites     *limiterSet  // API posts, edits, reactions and joins per token
	hookLimits    *limiterSet  // posts per incoming webhook
	exportLimits  *limiterSet  // exports started per user

	framesRendered atomic.Int64  // fragments rendered for broadcast, for tests and benchmarks
	lists          *roomLists    // room pages' message lists, shared while their room is unchanged
	pieces         *pieceCodings // room pages' pieces, compressed once each
	langs          *languages    // Accept-Language to the language pages are written in

	maxUpload     int64
	uploadGrace   time.Duration
	uploadMinRate int64
	uploadLimits  *limiterSet         // file uploads per user
	storageQuota  int64               // bytes of files an account may keep, unless an admin set its own limit
	storageTotal  int64               // bytes of files all accounts together may keep
	decodeBudget  int64               // the most memory one picture's decoding may take
	decodes       *semaphore.Weighted // pictures being decoded, weighed by their cost: together no more than the budget
	// Every action that writes or broadcasts has a limit per user.
	editLimits   *limiterSet // message edits
	reactLimits  *limiterSet // reactions
	statusLimits *limiterSet // status changes
	noticeLimits *limiterSet // joins, leaves, members added and removed: each posts a notice
	renameLimits *limiterSet // display-name changes: each posts a notice in every room of the user
	roomLimits   *limiterSet // rooms created: each public one reaches every sidebar online

	hashes  *hashGate    // password hashes computed at once
	sockets *socketCount // open sockets per user and per client address
	seen    *seenMarks   // when each session's last-seen time was last written

	oidc            *oidcClient // nil without OIDC
	noPasswordLogin bool

	stopAccounts context.CancelFunc // ends watchDeactivations and watchStatuses
	accountsDone chan struct{}
	statusDone   chan struct{}
	receipts     *readReceipts
	receiptsDone chan struct{}
	status       *statusBook
	loud         loudRooms
	notifyRuns   atomic.Int64 // runs of notify jobs, which JobsFinished leaves out
	push         *pushes
}

// flushEvery is how long a published frame may wait so that a busy room's
// frames share one write per socket: a few milliseconds of latency for a
// several-fold cut in writes (and the browser's work) under load.
const flushEvery = 5 * time.Millisecond

// NewHub returns a hub whose presence and typing frames are rendered by
// views; cfg's other settings (queue length, typing time) are kept, and
// writes are batched every flushEvery unless cfg says otherwise.
func NewHub(cfg live.HubConfig) *live.Hub {
	if cfg.FlushEvery == 0 {
		cfg.FlushEvery = flushEvery
	}
	cfg.Presence = func(_ int64, online []chat.User, code string) []byte {
		return renderBytesIn(inLanguage(code), views.Presence(online, true))
	}
	cfg.PresenceChange = func(_ int64, u chat.User, online bool, code string) []byte {
		return renderBytesIn(inLanguage(code), views.PresenceChange(u, online))
	}
	cfg.Typing = func(_ int64, typing []chat.User, code string) []byte {
		return renderBytesIn(inLanguage(code), views.Typing(typing, true))
	}
	return live.NewHub(cfg)
}

// New builds the server and its routes.
func New(cfg Config) *Server {
	s := &Server{
		store:        cfg.Store,
		hub:          cfg.Hub,
		log:          cfg.Log,
		assets:       cfg.Assets,
		assetVersion: versionOf(cfg.Assets),
		guests:       cfg.Guests,
		trustProxy:   cfg.TrustProxy,
		signup:       cfg.Signup,
		echo:         echo.New(),
		cop:          http.NewCrossOriginProtection(),
		loginLimits:  newLimiterSet(10.0/60, 10),
		// Twice an address's rate: one address alone never empties it.
		accountLimits: newLimiterSet(20.0/60, 20),
		postLimits:    newLimiterSet(8, 30),
		frameLimits:   newLimiterSet(40, 600),
		metrics:       cfg.Metrics,
		pingEvery:     cfg.PingEvery,
		apiLimits:     newLimiterSet(20, 100),
		apiWrites:     newLimiterSet(5, 20),
		maxUpload:     cfg.MaxUpload,
		uploadGrace:   cfg.UploadGrace,
		uploadLimits:  newLimiterSet(20.0/60, 20),
		decodeBudget:  cfg.DecodeBudget,
		storageQuota:  cfg.StorageQuota,
		storageTotal:  cfg.StorageTotal,
		editLimits:    newLimiterSet(1, 10),
		reactLimits:   newLimiterSet(3, 20),
		noticeLimits:  newLimiterSet(0.5, 30),
		statusLimits:  newLimiterSet(0.5, 20),
		renameLimits:  newLimiterSet(1.0/20, 3),
		roomLimits:    newLimiterSet(1.0/30, 5),
		hashes:        newHashGate(),
		sockets:       newSocketCount(SocketsPerUser, SocketsPerAddress),
		streamCount:   newSocketCount(StreamsPerUser, StreamsPerAddress),
		replayLimits:  newLimiterSet(1.0/5, 10),
		seen:          newSeenMarks(),
		hookLimits:    newLimiterSet(1, 20), // Slack's: one a second, short bursts allowed
		exportLimits:  newLimiterSet(1.0/300, 3),
		lists:         newRoomLists(),
		pieces:        newPieceCodings(),
		langs:         newLanguages(),
		mail:          cfg.Mail,
		publicURL:     strings.TrimSuffix(cfg.PublicURL, "/"),
		mailLimits:    newLimiterSet(1.0/120, 5),
		missedGrace:   cfg.MissedEmailGrace,
	}
	if s.signup == "" {
		s.signup = SignupOpen
	}
	if cfg.OIDC != nil {
		s.oidc = &oidcClient{cfg: *cfg.OIDC}
		s.noPasswordLogin = cfg.NoPasswordLogin
	}
	if s.maxUpload <= 0 {
		s.maxUpload = DefaultMaxUpload
	}
	switch {
	case s.storageQuota == 0:
		s.storageQuota = DefaultStorageQuota
	case s.storageQuota < 0:
		s.storageQuota = 0
	}
	if s.decodeBudget <= 0 {
		s.decodeBudget = media.DefaultDecodeBudget
	}
	s.decodes = semaphore.NewWeighted(s.decodeBudget)
	if s.uploadGrace <= 0 {
		s.uploadGrace = DefaultUploadGrace
	}
	if s.uploadMinRate = cfg.UploadMinRate; s.uploadMinRate <= 0 {
		s.uploadMinRate = DefaultUploadMinRate
	}
	s.streams = newStreams(newEventTail(s.eventsSince, s.store.RoomByID, s.store.LatestEventID,
		func(err error) { s.log.Error("read the event log for streams", "err", err) }))
	s.hub.OnDeliver(s.streams.wake)
	s.receipts = newReadReceipts()
	s.hub.OnUserEvent(func(ev chat.UserEvent) {
		s.streams.userEvent(ev)
		s.forgetLoud(ev)
		s.statusEvent(ev)
		s.receipts.note(ev, s.hub.Open)
	})
	s.hub.OnEnded(s.streams.end)
	// The API takes bearer tokens only, never cookies: a request from
	// another site's page carries nothing that would act for a user.
	s.cop.AddInsecureBypassPattern(apiPrefix)
	// An incoming webhook is called by tools with its secret URL, never by a
	// browser's session.
	s.cop.AddInsecureBypassPattern("POST " + hookPrefix + "{secret}")
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.jobs = cfg.Jobs
	if s.jobs == nil {
		s.jobs, s.ownJobs = jobs.New(cfg.Store, jobs.Options{Log: s.log}), true
	}
	s.startWebhooks(cfg.WebhooksPrivate, cfg.WebhookTimeout)
	s.startPush(cfg.PushSubject, cfg.PushPrivate, cfg.PushTimeout)
	s.startPreviews(cfg.Unfurl, cfg.UnfurlPrivate, cfg.UnfurlTimeout)
	s.jobs.Handle(jobEmail, s.sendEmail)
	s.jobs.Handle(jobMissed, s.sendMissed)
	s.jobs.Handle(jobNotify, s.runNotify)
	s.loud.known = make(map[int64]bool)
	s.startRetention(cfg.Retention)
	s.startLater()
	if s.missedGrace <= 0 {
		s.missedGrace = missedGrace
	}
	if s.metrics == nil {
		s.metrics = metrics.New()
	}
	if s.pingEvery <= 0 {
		s.pingEvery = pingEvery
	}
	s.closer, s.typer = s.hub, s.hub
	s.status = newStatusBook(cfg.Now)
	s.hub.SetPresenceOf(s.status.presence)
	s.hub.OnOnlineChange(func(u chat.User, online bool) {
		if online {
			s.refreshStatus(u.ID) // the hook has a goroutine of its own
		}
	})
	s.hub.StartFeed(s.store, sidebarRenderer{}, func(err error) { s.log.Error("read a sidebar", "err", err) })
	s.startRelay(cfg.TailEvery)
	s.routes()
	if s.ownJobs {
		s.jobs.Start()
	}
	every := cfg.AccountCheckEvery
	if every <= 0 {
		every = accountCheckEvery
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stopAccounts, s.accountsDone, s.statusDone = cancel, make(chan struct{}), make(chan struct{})
	go s.watchDeactivations(ctx, every)
	statusEvery := cfg.StatusEvery
	if statusEvery <= 0 {
		statusEvery = statusEvery0
	}
	go func() {
		defer close(s.statusDone)
		s.watchStatuses(ctx, statusEvery)
	}()
	s.receiptsDone = make(chan struct{})
	go func() {
		defer close(s.receiptsDone)
		s.carryReceipts(ctx)
	}()
	return s
}

// ServeHTTP serves a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Shutdown closes every room socket with 1012 (Service Restart), so browsers
// reconnect to the next process, and waits for them to finish or ctx to end.
// http.Server.Shutdown does not see hijacked connections: this does.
func (s *Server) Shutdown(ctx context.Context) {
	s.hub.Close(live.CloseServiceRestart, "server restarting")
	s.stopAccounts()
	<-s.accountsDone
	<-s.statusDone
	<-s.receiptsDone
	s.relay.Close()
	if s.ownJobs {
		s.jobs.Stop()
	}
	s.streams.close()
	// A socket leaves the hub once its close frame is written.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for s.hub.Len() > 0 {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}

// renderBytes renders a component once, for every receiver of a frame.
func renderBytes(c templ.Component) []byte { return renderBytesIn(context.Background(), c) }

// renderBytesIn renders a component in the language ctx carries.
func renderBytesIn(ctx context.Context, c templ.Component) []byte {
	var buf bytes.Buffer
	if err := c.Render(ctx, &buf); err != nil {
		// Rendering into a buffer fails only on a bug in a component.
		panic("render fragment: " + err.Error())
	}
	return buf.Bytes()
}

// renderFrame renders a room event's fragment for its sockets, counting it:
// a message must cost a number of renders that does not grow with the team.
func (s *Server) renderFrame(c templ.Component) []byte {
	s.framesRendered.Add(1)
	return renderBytes(c)
}

// renderFrames renders a room event's fragment in English, and makes the
// hub able to render it in the other languages its sockets read, each
// counted like the English one.
func (s *Server) renderFrames(ev *live.Event, c templ.Component) {
	ev.Data = s.renderFrame(c)
	ev.In = func(code string) []byte {
		s.framesRendered.Add(1)
		return renderBytesIn(inLanguage(code), c)
	}
}

// FramesRendered is how many fragments were rendered for delivery to sockets.
func (s *Server) FramesRendered() int64 { return s.framesRendered.Load() }

// render writes a full page or fragment with the given status.
func render(c echo.Context, status int, comp templ.Component) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(status)
	// Behind a plain writer: templ flushes an http.Flusher when a component
	// ends, which sent a page in two pieces (two write calls) and made the
	// encoder close a block early.
	return comp.Render(c.Request().Context(), struct{ io.Writer }{c.Response()})
}

// page returns the common page data for the signed-in user (or none).
func (s *Server) page(c echo.Context, title string, current int64) (views.Page, error) {
	p := views.Page{Title: title, Assets: s.assetVersion}
	u, ok := userFrom(c)
	if !ok {
		return p, nil
	}
	p.User = &u
	nav, err := s.nav(c.Request().Context(), u, current)
	if err != nil {
		return p, err
	}
	p.Nav = nav
	return p, nil
}

// nav is the user's sidebar as a page shows it. It writes nothing: a room
// the user has open in a socket here is being read as it comes, so it
// counts nothing, as in the sidebars the socket keeps (see live's feed);
// the socket marks it read when it closes.
func (s *Server) nav(ctx context.Context, u chat.User, current int64) (views.Nav, error) {
	rooms, err := s.store.Nav(ctx, u.ID)
	if err != nil {
		return views.Nav{}, err
	}
	open := s.hub.RoomsOf(u.ID)
	for i := range rooms {
		if slices.Contains(open, rooms[i].ID) {
			rooms[i].Unread, rooms[i].Mentions = 0, 0
		}
	}
	var peers []int64
	var peerUsers []chat.User
	for _, r := range rooms {
		if r.IsDM() {
			peers = append(peers, r.Peer.ID)
			peerUsers = append(peerUsers, r.Peer)
		}
	}
	online := s.hub.OnlineSet(peers)
	shown := s.withPresence(ctx, peerUsers, func(id int64) bool { return online[id] })
	for i, j := 0, 0; i < len(rooms); i++ {
		if rooms[i].IsDM() {
			rooms[i].Peer = shown[j]
			j++
		}
	}
	threads, err := s.threadsUnread(ctx, u)
	if err != nil {
		return views.Nav{}, err
	}
	return views.Nav{Rooms: rooms, Current: current, Online: online,
		Creates: chat.MayCreateRooms(u) && chat.MayHoldDMs(u), Threads: threads}, nil
}

// versionOf fingerprints the static files, so their URLs change when they do
// and browsers may cache them for long.
func versionOf(fsys fs.FS) string {
	if fsys == nil {
		return "0"
	}
	h := sha256.New()
	_ = fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, err := fs.ReadFile(fsys, path)
		if err == nil {
			h.Write([]byte(path))
			h.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}

var sessionTTL = 30 * 24 * time.Hour
