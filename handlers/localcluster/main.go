// Command localcluster runs a whole agora cluster on this machine, for
// trying it out (`make cluster`): a throwaway PostgreSQL (Debian's
// postgresql package), a NATS server (built from the nats-server module,
// inside this process) and two agora nodes on two ports. Ctrl-C stops them
// all and removes the database. Arguments after the flags go to both nodes:
//
//	localcluster -agora bin/agora -- -trust-proxy
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
	"time"

	"github.com/nats-io/nats-server/v2/server"

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
	first := flag.Int("port", 8081, "the first node's port; the second node takes the next one")
	natsPort := flag.Int("nats-port", 4222, "the NATS server's port")
	flag.Parse()
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

	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: *natsPort, NoSigs: true, NoLog: true})
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		return errors.New("nats: not ready after 10s (is the port taken?)")
	}
	defer func() {
		fmt.Println("cluster: stopping NATS")
		ns.Shutdown()
	}()
	fmt.Println("cluster: NATS at", ns.ClientURL())

	var wg sync.WaitGroup
	var nodes []*exec.Cmd
	exited := make(chan error, 2) // a node that ends on its own (a port taken, say) ends the cluster
	defer func() {
		for _, cmd := range nodes {
			cmd.Process.Signal(syscall.SIGTERM)
		}
		wg.Wait()
	}()
	for i := range 2 {
		addr := "127.0.0.1:" + strconv.Itoa(*first+i)
		args := append([]string{"-addr", addr, "-db", dsn, "-nats", ns.ClientURL()}, flag.Args()...)
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
	fmt.Println("cluster: open both addresses (or put a proxy in front of them); Ctrl-C stops everything")
	select {
	case <-ctx.Done():
		fmt.Println("cluster: stopping the nodes")
		return nil
	case err := <-exited:
		fmt.Println("cluster: stopping the other node")
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
