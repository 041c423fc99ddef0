// Package natstest runs NATS servers on loopback ports, alone or as one
// cluster of several, for tests, benchmarks and `make cluster`: the real
// server (the nats-server module) in this process, nothing downloaded.
package natstest

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Cluster is n NATS servers routed to one another: a client connected to
// any of them reaches every subscriber on all of them, and a client given
// all their URLs rides out the loss of one.
type Cluster struct {
	Servers []*server.Server
	routes  []string // each server's cluster (route) URL
	opts    []*server.Options
}

// Options change how a cluster starts.
type Options struct {
	// FirstPort is the first server's client port, the next ones follow
	// it; 0 picks free ports.
	FirstPort int
}

// Start starts n servers on 127.0.0.1 and waits until each has a route to
// every other one.
func Start(n int, o Options) (*Cluster, error) {
	if n < 1 {
		return nil, errors.New("natstest: no servers asked for")
	}
	c := &Cluster{}
	var clusterPorts []int
	for range n {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		clusterPorts = append(clusterPorts, p)
		c.routes = append(c.routes, "nats-route://127.0.0.1:"+strconv.Itoa(p))
	}
	for i := range n {
		port := -1 // a free one
		if o.FirstPort > 0 {
			port = o.FirstPort + i
		}
		opts := &server.Options{
			ServerName: fmt.Sprintf("agora-nats-%d", i+1),
			Host:       "127.0.0.1", Port: port,
			NoLog: true, NoSigs: true,
		}
		if n > 1 {
			opts.Cluster = server.ClusterOpts{Name: "agora", Host: "127.0.0.1", Port: clusterPorts[i]}
			opts.Routes = routeURLs(c.routes, i)
		}
		s, err := c.startOne(opts)
		if err != nil {
			c.Shutdown()
			return nil, err
		}
		// Clients are given this port: a restart takes it again.
		opts.Port = s.Addr().(*net.TCPAddr).Port
		c.opts = append(c.opts, opts)
		c.Servers = append(c.Servers, s)
	}
	if err := c.WaitRouted(10 * time.Second); err != nil {
		c.Shutdown()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) startOne(opts *server.Options) (*server.Server, error) {
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("natstest: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("natstest: %s not ready after 10 s (is port %d taken?)", opts.ServerName, opts.Port)
	}
	return s, nil
}

// routeURLs is every route URL but the server's own.
func routeURLs(all []string, self int) []*url.URL {
	var out []*url.URL
	for i, r := range all {
		if i != self {
			u, _ := url.Parse(r)
			out = append(out, u)
		}
	}
	return out
}

// URLs is the client URLs of the servers running now, comma-separated: the
// form agora's -nats takes.
func (c *Cluster) URLs() string {
	var urls []string
	for _, s := range c.Servers {
		if s.Running() {
			urls = append(urls, s.ClientURL())
		}
	}
	return strings.Join(urls, ",")
}

// WaitRouted waits until every running server has a route to every other
// running one.
func (c *Cluster) WaitRouted(d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		running, routed := 0, true
		for _, s := range c.Servers {
			if s.Running() {
				running++
			}
		}
		for _, s := range c.Servers {
			if s.Running() && Peers(s) < running-1 {
				routed = false
			}
		}
		if routed {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("natstest: the %d servers did not all route to one another within %v", running, d)
		}
		time.Sleep(20 * time.Millisecond) // polling for the routes under a deadline
	}
}

// Peers is how many other servers s has a route to (a server may hold
// several route connections to one peer).
func Peers(s *server.Server) int {
	rz, err := s.Routez(nil)
	if err != nil {
		return 0
	}
	peers := map[string]bool{}
	for _, r := range rz.Routes {
		peers[r.RemoteID] = true
	}
	return len(peers)
}

// Stop shuts server i down, as a crash of that server would look to its
// clients: their connections drop and they move to another server.
func (c *Cluster) Stop(i int) {
	c.Servers[i].Shutdown()
	c.Servers[i].WaitForShutdown()
}

// Restart starts server i again on its ports and waits for its routes.
func (c *Cluster) Restart(i int) error {
	opts := *c.opts[i]
	s, err := c.startOne(&opts)
	if err != nil {
		return err
	}
	c.Servers[i] = s
	return c.WaitRouted(10 * time.Second)
}

// Shutdown stops every server.
func (c *Cluster) Shutdown() {
	for _, s := range c.Servers {
		s.Shutdown()
	}
	for _, s := range c.Servers {
		s.WaitForShutdown()
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("natstest: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
