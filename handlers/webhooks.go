package handlers

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"agora/chat"
	"agora/chat/webhook"
)

// Outgoing webhooks: a message that mentions a bot, or a direct message to
// one, is posted to the bot's webhook, and a reply is posted back as the
// bot's message through the same path as everyone's. It all happens off the
// message path: sendMessage only drops the message into a bounded queue
// (never waiting; a full queue drops the delivery and logs it), and a few
// workers deliver.

const (
	webhookWorkers = 4
	webhookQueue   = 256
)

type hookJob struct {
	msg  chat.Message
	room chat.Room
}

type webhooks struct {
	client *webhook.Client
	jobs   chan hookJob
	cancel context.CancelFunc
	wg     sync.WaitGroup
	done   atomic.Int64 // messages handled (delivered to every bot they concern, or failed)
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
	ctx, cancel := context.WithCancel(context.Background())
	s.hooks = &webhooks{client: webhook.New(allowPrivate, timeout), jobs: make(chan hookJob, webhookQueue), cancel: cancel}
	for range webhookWorkers {
		s.hooks.wg.Add(1)
		go func() {
			defer s.hooks.wg.Done()
			for {
				select {
				case job := <-s.hooks.jobs:
					s.deliverWebhooks(ctx, job)
					s.hooks.done.Add(1)
				case <-ctx.Done():
					return
				}
			}
		}()
	}
}

// WebhooksHandled is how many messages the webhook workers have finished
// with, for tests that wait for deliveries to be over.
func (s *Server) WebhooksHandled() int64 { return s.hooks.done.Load() }

// stopWebhooks ends deliveries in flight and the workers.
func (s *Server) stopWebhooks() {
	s.hooks.cancel()
	s.hooks.wg.Wait()
}

// queueWebhooks hands a new message to the webhook workers if it may
// concern a bot. Bots' own messages never do: two bots cannot loop.
func (s *Server) queueWebhooks(m chat.Message, room chat.Room, author chat.User) {
	if author.IsBot || m.Kind != chat.MessageText || (!room.IsDM() && len(m.Mentions) == 0) {
		return
	}
	select {
	case s.hooks.jobs <- hookJob{msg: m, room: room}:
	default:
		s.log.Warn("webhook queue full: delivery dropped", "message", m.ID, "room", room.Slug)
	}
}

// deliverWebhooks finds the bots a message is for and delivers it to each.
func (s *Server) deliverWebhooks(ctx context.Context, job hookJob) {
	var bots []chat.Bot
	var err error
	event := "mention"
	if job.room.IsDM() {
		event = "direct_message"
		var peer chat.User
		if peer, err = s.store.DMPeer(ctx, job.room.ID, job.msg.AuthorID); err == nil && peer.IsBot {
			bots, err = s.store.BotsNamed(ctx, []string{peer.Username})
		}
	} else {
		// A bot in a mentioned group is mentioned too (GroupMembers holds
		// only those who can read the room; access is asked again below).
		bots, err = s.store.BotsNamed(ctx, append(slices.Clip(job.msg.Mentions), job.msg.GroupMembers...))
	}
	if err != nil {
		s.log.Error("webhook: find bots", "message", job.msg.ID, "err", err)
		return
	}
	for _, bot := range bots {
		// A bot hears only what it could read: never a private room it is not in.
		a, err := s.accessTo(ctx, bot.User, job.room)
		if err != nil {
			s.log.Error("webhook: membership", "bot", bot.User.Username, "err", err)
			continue
		}
		if !a.Read {
			continue
		}
		s.deliverWebhook(ctx, bot, event, job, a)
	}
}

func (s *Server) deliverWebhook(ctx context.Context, bot chat.Bot, event string, job hookJob, a access) {
	body, err := json.Marshal(hookPayload{Event: event, Bot: bot.User.Username,
		Room:    apiRoom{Slug: job.room.Slug, Name: job.room.Name, Private: job.room.Private, Member: a.member, Kind: job.room.Kind},
		Message: toAPIMessage(job.msg, job.room)})
	if err != nil {
		s.log.Error("webhook: encode", "err", err)
		return
	}
	fail := func(reason string) {
		s.log.Warn("webhook failed", "bot", bot.User.Username, "message", job.msg.ID, "err", reason)
		if err := s.store.RecordDelivery(context.WithoutCancel(ctx), bot.User.ID, time.Now(), reason); err != nil {
			s.log.Error("webhook: record failure", "bot", bot.User.Username, "err", err)
		}
	}
	reply, err := s.hooks.client.Post(ctx, bot.WebhookURL, bot.Secret, body)
	if err != nil {
		if ctx.Err() == nil {
			fail(err.Error())
		}
		return
	}
	if err := s.store.RecordDelivery(ctx, bot.User.ID, time.Now(), ""); err != nil {
		s.log.Error("webhook: record delivery", "bot", bot.User.Username, "err", err)
	}
	var r hookReply
	if len(reply) == 0 || json.Unmarshal(reply, &r) != nil || r.Body == "" {
		return // an acknowledgement without a reply
	}
	if !a.member {
		if _, err := s.join(ctx, bot.User, a); err != nil {
			fail("could not join " + job.room.Slug + " to reply: " + chat.ErrorMessage(err))
			return
		}
	}
	// The reply's client id is tied to the message, so a delivery made twice
	// is answered once.
	_, _, err = s.sendMessage(ctx, bot.User, job.room, r.Body, chat.BotReplyIDStart+strconv.FormatInt(job.msg.ID, 10))
	if err != nil {
		fail("the reply was refused: " + chat.ErrorMessage(err))
	}
}
