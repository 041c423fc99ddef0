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

// Missed-activity email settings.
const (
	EmailOff      = "off"
	EmailMentions = "mentions"
)

// NotifySettings are how a user wants to be told of what they missed.
type NotifySettings struct {
	Email      string // EmailOff or EmailMentions
	EmailDelay int    // minutes a mention or direct message may stay unread before it is emailed
}

// DefaultNotifySettings are a user's until they change them.
var DefaultNotifySettings = NotifySettings{Email: EmailMentions, EmailDelay: 10}

// Missed is a mention or direct message a user has not read, for the
// missed-activity email.
type Missed struct {
	Message Message
	Room    Room
	Peer    string // a direct conversation's other person's username
}
