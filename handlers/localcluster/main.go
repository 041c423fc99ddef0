// Command localcluster runs a whole agora cluster on this machine, for
// trying it out (`make cluster`): a throwaway PostgreSQL (Debian's
// postgresql package), NATS (one server, or several routed as one NATS
// cluster: the nats-server module, inside this process) and agora nodes on
// ports one after another, each given every NATS server's URL. Ctrl-C stops
// them all and removes the database. Arguments after the flags go to every
// node:
//
//	localcluster -agora bin/agora -- -trust-proxy
//	localcluster -nodes 3 -nats-servers 3   # three of each
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"sync"
	"syscall"

	"agora/chat/live/cluster/natstest"
	"agora/db/pgtest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

func run() error {
	agora := flag.String("agora", "bin/agora", "the agora binary")
	first := flag.Int("port", 8081, "the first node's port; the next nodes take the next ones")
	natsPort := flag.Int("nats-port", 4222, "the first NATS server's port; the next servers take the next ones")
	n := flag.Int("nodes", 2, "how many agora nodes")
	natsServers := flag.Int("nats-servers", 1, "how many NATS servers, routed as one NATS cluster when more than one")
	flag.Parse()
	if *n < 1 || *natsServers < 1 {
		return errors.New("-nodes and -nats-servers must be at least 1")
	}
	if _, err := os.Stat(*agora); err != nil {
		return fmt.Errorf("%w (make build makes it)", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fmt.Println("cluster: starting PostgreSQL (a throwaway cluster in a temporary directory)")
	pg, err := pgtest.Start(ctx, pgtest.Options{Durable: true})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Println("cluster: stopping PostgreSQL")
		if err := pg.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "cluster:", err)
		}
	}()
	dsn, err := pg.CreateDatabase(ctx)
	if err != nil {
		return err
	}

	nc, err := natstest.Start(*natsServers, natstest.Options{FirstPort: *natsPort})
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	defer func() {
		fmt.Println("cluster: stopping NATS")
		nc.Shutdown()
	}()
	urls := nc.URLs()
	fmt.Println("cluster: NATS at", urls)

	var wg sync.WaitGroup
	var nodes []*exec.Cmd
	exited := make(chan error, *n) // a node that ends on its own (a port taken, say) ends the cluster
	defer func() {
		for _, cmd := range nodes {
			cmd.Process.Signal(syscall.SIGTERM)
		}
		wg.Wait()
	}()
	for i := range *n {
		addr := "127.0.0.1:" + strconv.Itoa(*first+i)
		args := append([]string{"-addr", addr, "-db", dsn, "-nats", urls}, flag.Args()...)
		cmd := exec.Command(*agora, args...)
		// Ctrl-C reaches us, and we stop the nodes; if we are killed
		// outright, the kernel stops them.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		cmd.Stderr = cmd.Stdout
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start node %d: %w", i+1, err)
		}
		nodes = append(nodes, cmd)
		wg.Go(func() {
			prefix(fmt.Sprintf("node %d | ", i+1), out)
			exited <- fmt.Errorf("node %d on %s ended: %v", i+1, addr, cmd.Wait())
		})
		fmt.Printf("cluster: node %d on http://%s\n", i+1, addr)
	}
	fmt.Println("cluster: open any node's address (or put a proxy in front of them); Ctrl-C stops everything")
	select {
	case <-ctx.Done():
		fmt.Println("cluster: stopping the nodes")
		return nil
	case err := <-exited:
		fmt.Println("cluster: stopping the other nodes")
		return err
	}
}

// prefix copies a node's log lines to stdout, each marked with the node.
func prefix(p string, r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fmt.Println(p + sc.Text())
	}
}
