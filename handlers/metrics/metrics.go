// Package metrics holds what agora counts for Prometheus: sockets, messages,
// deliveries, evictions, commit and fan-out latency, HTTP requests, and Go's
// runtime and process figures. It uses a registry of its own (never the
// global one), so two servers in one process (tests) count apart.
//
// The socket write path touches only plain counters (one atomic add each):
// labelled series used there are curried once, at construction.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Set is one server's metrics and the registry that exposes them.
type Set struct {
	registry *prometheus.Registry

	// SocketsOpen is the number of room sockets open now.
	SocketsOpen prometheus.Gauge
	// MessagesCreated counts messages committed (notices included), once
	// each, whichever way they came in.
	MessagesCreated prometheus.Counter
	// Deliveries counts WebSocket messages written to sockets, one per
	// receiver: a write that carries several queued fragments counts once.
	Deliveries prometheus.Counter
	// Evictions by why a socket was closed with 1013 (Try Again Later).
	EvictedSlow, EvictedWriteFailed, EvictedNoPong prometheus.Counter
	// CommitSeconds is how long sending a message waited for its commit
	// (group commit included).
	CommitSeconds prometheus.Histogram
	// FanoutSeconds is how long a committed batch took to be rendered and
	// queued for every socket of its room.
	FanoutSeconds prometheus.Histogram
	// EventLogReads counts reads of the rooms' event log for the API's
	// event streams: one per batch for all of a node's streams together,
	// and one per batch of a stream's replay.
	EventLogReads prometheus.Counter
	// NotifyJobs counts messages that may concern someone personally, one
	// notify job each; NotifyReads the store reads the message path made to
	// tell (a room's members' levels, once per room a node did not know).
	NotifyJobs, NotifyReads prometheus.Counter
	// UnfurlFetches counts requests sent for link previews (pages, their
	// redirects and pictures): all of them by the job queue, none on the
	// message path.
	UnfurlFetches prometheus.Counter

	httpRequests *prometheus.CounterVec
	httpSeconds  *prometheus.HistogramVec
}

// New returns a fresh set, registered with a registry of its own together
// with Go's runtime and process collectors.
func New() *Set {
	evictions := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "agora_evictions_total",
		Help: "Room sockets closed with 1013 (Try Again Later), by reason: slow (queue full), write_failed, no_pong.",
	}, []string{"reason"})
	m := &Set{
		registry: prometheus.NewRegistry(),
		SocketsOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "agora_sockets_open",
			Help: "Room WebSockets open now.",
		}),
		MessagesCreated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "agora_messages_created_total",
			Help: "Messages committed to the store (notices included).",
		}),
		Deliveries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "agora_deliveries_total",
			Help: "WebSocket messages written to room sockets, counted per receiver.",
		}),
		EvictedSlow:        evictions.WithLabelValues("slow"),
		EvictedWriteFailed: evictions.WithLabelValues("write_failed"),
		EvictedNoPong:      evictions.WithLabelValues("no_pong"),
		CommitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "agora_commit_seconds",
			Help:    "Time a message waited for its commit, group commit included.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14), // 0.5 ms .. 4 s
		}),
		FanoutSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "agora_fanout_seconds",
			Help:    "Time to render a committed batch and queue it for every socket of its room.",
			Buckets: prometheus.ExponentialBuckets(0.00001, 2.5, 12), // 10 µs .. 0.6 s
		}),
		EventLogReads: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "agora_event_log_reads_total",
			Help: "Reads of the rooms' event log for the API's event streams (shared by a node's streams; replays read their own).",
		}),
		NotifyJobs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "agora_notify_jobs_total",
			Help: "Messages queued to find whom to push or email (mentions, direct messages, thread replies, rooms someone set to all).",
		}),
		NotifyReads: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "agora_notify_path_reads_total",
			Help: "Store reads on the message path to tell whether a message concerns anyone (a room's levels, once per room and node).",
		}),
		UnfurlFetches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "agora_unfurl_fetches_total",
			Help: "Requests sent for link previews (pages, redirects and pictures), all by the job queue.",
		}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "agora_http_requests_total",
			Help: "HTTP requests by route pattern and status (499: the client went away first).",
		}, []string{"route", "status"}),
		httpSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "agora_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12), // 0.5 ms .. 30 s
		}, []string{"route"}),
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.SocketsOpen, m.MessagesCreated, m.Deliveries, evictions,
		m.CommitSeconds, m.FanoutSeconds, m.EventLogReads, m.NotifyJobs, m.NotifyReads, m.UnfurlFetches, m.httpRequests, m.httpSeconds,
	)
	// Every reason is exported from the start, at zero.
	return m
}

// Request records one answered HTTP request. route is the router's pattern
// (such as /rooms/:slug), never the raw path, so the series stay few.
func (m *Set) Request(route string, status int, took time.Duration) {
	m.httpRequests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.httpSeconds.WithLabelValues(route).Observe(took.Seconds())
}

// Handler serves the metrics in Prometheus' text format.
func (m *Set) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}
