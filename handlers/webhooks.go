package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"agora/chat"
	"agora/chat/jobs"
	"agora/chat/netguard"
	"agora/chat/webhook"
)

// Outgoing webhooks: a message that mentions a bot, or a direct message to
// one, is posted to the bot's webhook, and a reply is posted back as the
// bot's message through the same path as everyone's. Each delivery is a job
// in the store's queue (see chat/jobs): it survives a restart, is retried
// with backoff when the bot does not answer, and lands on /admin/jobs when
// it never does. A bot's deliveries are one queue, run one at a time in
// order, so a slow or flooded bot holds one runner and never delays another
// bot's. Sending the message only adds the jobs.

// jobWebhook is the kind of a delivery of one message to one bot.
const jobWebhook = "webhook"

// webhookAttempts is how often a delivery is tried: with the runner's
// backoff (5 s, doubling) the last comes about 20 minutes after the first.
const webhookAttempts = 8

type webhooks struct {
	client *webhook.Client
}

// hookJob is a delivery's payload.
type hookJob struct {
	Bot     int64        `json:"bot"`
	Event   string       `json:"event"` // "mention" or "direct_message"
	Message chat.Message `json:"message"`
	Room    chat.Room    `json:"room"`
}

// hookPayload is what a bot's webhook receives.
type hookPayload struct {
	Event   string     `json:"event"` // "mention" or "direct_message"
	Bot     string     `json:"bot"`   // the bot's username
	Room    apiRoom    `json:"room"`
	Message apiMessage `json:"message"`
}

// hookReply is what a webhook may answer: a body to post as the bot's reply.
type hookReply struct {
	Body string `json:"body"`
}

func (s *Server) startWebhooks(allowPrivate bool, timeout time.Duration) {
	s.hooks = &webhooks{client: webhook.New(allowPrivate, timeout)}
	s.jobs.Handle(jobWebhook, s.deliverWebhook)
}

// JobsFinished is how many runs of jobs that reach out (webhook
// deliveries, emails, pushes) have ended with their outcome stored, for
// tests that wait for them: a notify job's run (counted before its outcome
// is) is not one of them.
func (s *Server) JobsFinished() int64 { return s.jobs.Finished() - s.notifyRuns.Load() }

// queueWebhooks adds a delivery job for each bot a new message concerns
// and can read. Bots' own messages never concern bots: two cannot loop.
// The message is stored already; a delivery that cannot be queued is
// logged as lost, never silently.
func (s *Server) queueWebhooks(ctx context.Context, m chat.Message, room chat.Room, author chat.User) {
	if author.IsBot || m.Kind != chat.MessageText || (!room.IsDM() && len(m.Mentions) == 0) {
		return
	}
	ctx = context.WithoutCancel(ctx)
	var bots []chat.Bot
	var err error
	event := "mention"
	if room.IsDM() {
		event = "direct_message"
		var peer chat.User
		if peer, err = s.store.DMPeer(ctx, room.ID, m.AuthorID); err == nil && peer.IsBot {
			bots, err = s.store.BotsNamed(ctx, []string{peer.Username})
		}
	} else {
		// A bot in a mentioned group is mentioned too (GroupMembers holds
		// only those who can read the room; access is asked again below).
		bots, err = s.store.BotsNamed(ctx, append(slices.Clip(m.Mentions), m.GroupMembers...))
	}
	if err != nil {
		s.log.Error("webhook deliveries lost: finding the bots failed", "message", m.ID, "room", room.Slug, "err", err)
		return
	}
	var batch []chat.Job
	for _, bot := range bots {
		// A bot hears only what it could read: never a private room it is not in.
		if ok, err := s.botCanRead(ctx, bot, room); err != nil {
			s.log.Error("webhook delivery lost: membership", "bot", bot.User.Username, "message", m.ID, "err", err)
			continue
		} else if !ok {
			continue
		}
		payload, err := json.Marshal(hookJob{Bot: bot.User.ID, Event: event, Message: m, Room: room})
		if err != nil {
			s.log.Error("webhook delivery lost: encode", "bot", bot.User.Username, "message", m.ID, "err", err)
			continue
		}
		batch = append(batch, chat.Job{Kind: jobWebhook, Queue: "bot:" + strconv.FormatInt(bot.User.ID, 10), Payload: payload,
			MaxAttempts: webhookAttempts, Key: fmt.Sprintf("webhook:%d:%d", m.ID, bot.User.ID)})
	}
	if len(batch) == 0 {
		return
	}
	if _, err := s.jobs.Enqueue(ctx, batch...); err != nil {
		s.log.Error("webhook deliveries lost: queueing failed", "message", m.ID, "room", room.Slug, "bots", len(batch), "err", err)
	}
}

func (s *Server) botCanRead(ctx context.Context, bot chat.Bot, room chat.Room) (bool, error) {
	a, err := s.accessTo(ctx, bot.User, room)
	if err != nil {
		return false, err
	}
	return a.Read, nil
}

// deliverWebhook runs one delivery job: the bot as it is now (its address
// and secret may have changed since), the message as it was sent.
func (s *Server) deliverWebhook(ctx context.Context, j chat.Job) error {
	var job hookJob
	if err := json.Unmarshal(j.Payload, &job); err != nil {
		return jobs.Permanent(fmt.Errorf("bad webhook job: %w", err))
	}
	bot, err := s.store.BotByID(ctx, job.Bot)
	if chat.ErrorCode(err) == chat.ENotFound {
		return nil // the bot is gone: nobody to tell
	}
	if err != nil {
		return err
	}
	if bot.WebhookURL == "" || bot.User.Deactivated {
		return nil
	}
	a, err := s.accessTo(ctx, bot.User, job.Room)
	if err != nil {
		return err
	}
	member := a.member
	if !a.Read {
		return nil // removed from the room since, or deactivated
	}
	body, err := json.Marshal(hookPayload{Event: job.Event, Bot: bot.User.Username,
		Room:    apiRoom{Slug: job.Room.Slug, Name: job.Room.Name, Private: job.Room.Private, Member: member, Kind: job.Room.Kind},
		Message: toAPIMessage(job.Message, job.Room)})
	if err != nil {
		return jobs.Permanent(fmt.Errorf("encode webhook: %w", err))
	}
	fail := func(reason string) {
		s.log.Warn("webhook failed", "bot", bot.User.Username, "message", job.Message.ID, "attempt", j.Attempts, "err", reason)
		if err := s.store.RecordDelivery(context.WithoutCancel(ctx), bot.User.ID, time.Now(), reason); err != nil {
			s.log.Error("webhook: record failure", "bot", bot.User.Username, "err", err)
		}
	}
	reply, err := s.hooks.client.Post(ctx, bot.WebhookURL, bot.Secret, body)
	if err != nil {
		fail(err.Error())
		// An address that is refused or redirects, or a reply too large to
		// read, would be the same next time: only a bot that did not answer
		// (or answered an error) is tried again.
		var refused *netguard.RefusedError
		var perm *webhook.PermanentError
		if errors.As(err, &refused) || errors.As(err, &perm) {
			return jobs.Permanent(err)
		}
		return err
	}
	if err := s.store.RecordDelivery(ctx, bot.User.ID, time.Now(), ""); err != nil {
		s.log.Error("webhook: record delivery", "bot", bot.User.Username, "err", err)
	}
	var r hookReply
	if len(reply) == 0 || json.Unmarshal(reply, &r) != nil || r.Body == "" {
		return nil // an acknowledgement without a reply
	}
	// The delivery is done whatever becomes of the reply: trying again
	// would post the message to the bot twice.
	if !member {
		if _, err := s.join(ctx, bot.User, a); err != nil {
			fail("could not join " + job.Room.Slug + " to reply: " + chat.ErrorMessage(err))
			return nil
		}
	}
	// The reply's client id is tied to the message, so a delivery made twice
	// is answered once.
	// A bot mentioned in a thread answers in the thread.
	_, _, err = s.send(ctx, bot.User, job.Room, r.Body, chat.BotReplyIDStart+strconv.FormatInt(job.Message.ID, 10), nil, inThread{root: job.Message.ThreadID})
	if err != nil {
		fail("the reply was refused: " + chat.ErrorMessage(err))
	}
	return nil
}
