package chat

import "time"

// Job states. A job is queued until a runner claims it (running, under a
// lease), then done, or queued again for a retry, or failed once its
// attempts are spent (an admin may queue it again).
const (
	JobQueued  = "queued"
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// Job is a piece of background work kept in the store, so that it survives a
// restart and runs once on a cluster.
type Job struct {
	ID   int64
	Kind string // what runs it: a runner has one handler per kind
	// Queue groups jobs that run one at a time, each after the last, whatever
	// the number of runners: a slow bot's deliveries hold one runner, never
	// all of them. "" is no group.
	Queue       string
	Payload     []byte // the handler's input, JSON
	State       string
	RunAt       time.Time // not before: the first run, or the next retry
	Attempts    int       // runs started so far
	MaxAttempts int
	LastError   string
	CreatedAt   time.Time
	FinishedAt  time.Time // done or failed; zero before
	// Key, when set, is unique among jobs: enqueueing a job whose key is
	// already there adds nothing, so work asked for twice is done once.
	Key string
}

// JobCounts is how many jobs are in each state.
type JobCounts struct {
	Queued, Running, Failed, Done int
}

// Add counts n more jobs in state.
func (c *JobCounts) Add(state string, n int) {
	switch state {
	case JobQueued:
		c.Queued += n
	case JobRunning:
		c.Running += n
	case JobFailed:
		c.Failed += n
	case JobDone:
		c.Done += n
	}
}

// Total is how many jobs there are in all.
func (c JobCounts) Total() int { return c.Queued + c.Running + c.Failed + c.Done }

// Missed-activity email settings.
const (
	EmailOff      = "off"
	EmailMentions = "mentions"
)

// Push settings.
const (
	PushOn  = "on"
	PushOff = "off"
)

// NotifySettings are how a user wants to be told of what they missed.
type NotifySettings struct {
	Email      string // EmailOff or EmailMentions
	EmailDelay int    // minutes a mention or direct message may stay unread before it is emailed
	Push       string // PushOn or PushOff, for all of their devices
	// QuietStart and QuietEnd are a daily quiet time without pushes, in
	// minutes after midnight in Zone; -1 for none. Quiet time may span
	// midnight (22:00 to 07:00).
	QuietStart, QuietEnd int
	Zone                 string // an IANA zone name; "" is UTC
}

// DefaultNotifySettings are a user's until they change them.
var DefaultNotifySettings = NotifySettings{Email: EmailMentions, EmailDelay: 10, Push: PushOn, QuietStart: -1, QuietEnd: -1}

// Quiet reports whether now falls in the daily quiet time.
func (n NotifySettings) Quiet(now time.Time) bool {
	if n.QuietStart < 0 || n.QuietEnd < 0 || n.QuietStart == n.QuietEnd {
		return false
	}
	loc, err := time.LoadLocation(n.Zone)
	if err != nil {
		loc = time.UTC
	}
	t := now.In(loc)
	m := t.Hour()*60 + t.Minute()
	if n.QuietStart < n.QuietEnd {
		return m >= n.QuietStart && m < n.QuietEnd
	}
	return m >= n.QuietStart || m < n.QuietEnd
}

// PushSubscription is one browser's subscription to a user's pushes.
type PushSubscription struct {
	ID       int64
	UserID   int64
	Endpoint string
	P256dh   string
	Auth     string
}

// Missed is a mention or direct message a user has not read, for the
// missed-activity email.
type Missed struct {
	Message Message
	Room    Room
	Peer    string // a direct conversation's other person's username
}
