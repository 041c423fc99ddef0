package main

import (
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// The team phase: sockets of many users spread over many public rooms,
// each user a member of several, messages spread over the rooms. Every
// message reaches its room's sockets; the sidebars of the room's members who
// are online elsewhere follow it.

// teamRooms is the phase's rooms: #general and rooms-1 rooms named team-NN.
func teamRoomNames(cfg settings) []string {
	names := []string{"general"}
	for k := 1; k < cfg.rooms; k++ {
		names = append(names, fmt.Sprintf("team-%02d", k))
	}
	return names
}

// memberOf is the rooms user i is a member of: roomsPerUser consecutive
// rooms from i mod rooms, so that every room has the same number of members.
func memberOf(cfg settings, i int) []int {
	out := make([]int, cfg.roomsPerUser)
	for k := range out {
		out[k] = (i + k) % cfg.rooms
	}
	return out
}

// teamSetup creates the rooms through the sidebar's form and makes each user
// a member of their rooms the way a browser does: opening the room's page
// joins it, and the Leave button leaves #general, which every user joined
// at sign-up. It returns the rooms' slugs, #general first.
func teamSetup(addr string, users []*user, cfg settings, logf func(string, ...any)) ([]string, error) {
	start := time.Now()
	next := 0
	var mu sync.Mutex
	hc := &http.Client{
		Transport: transport(func() *net.TCPAddr {
			mu.Lock()
			defer mu.Unlock()
			next++
			return local(3, next%64)
		}),
		CheckRedirect: noRedirect, Timeout: 30 * time.Second,
	}
	defer hc.CloseIdleConnections()
	names := teamRoomNames(cfg)
	slugs := []string{"general"}
	// Room r is made by user r, one of its members (memberOf): one person
	// making twenty rooms at once is what the server's room limit refuses.
	for r, name := range names {
		if r == 0 {
			continue
		}
		slug, err := createRoom(hc, addr, users[r%len(users)], name)
		if err != nil {
			return nil, err
		}
		slugs = append(slugs, slug)
	}
	err := fewAtATime(len(users), func(i int) error {
		inGeneral := false
		for _, r := range memberOf(cfg, i) {
			if r == 0 {
				inGeneral = true
				continue
			}
			if _, err := openRoom(hc, "http://"+addr, users[i], slugs[r]); err != nil {
				return err
			}
		}
		if !inGeneral {
			return leaveRoom(hc, addr, users[i], "general")
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("team setup: %w", err)
	}
	logf("team: %d rooms, %d users a member of %d each, in %v", len(slugs), len(users), cfg.roomsPerUser, time.Since(start).Round(time.Millisecond))
	return slugs, nil
}

// teamSeats is where the sockets are: user i has socketsPerUser sockets, on
// every other room of theirs (in tabs, as people keep a few rooms open).
// pages[r] is room r's page as its sockets start from; ids the rooms' ids by
// slug; users nil: anonymous sockets for the baseline.
func teamSeats(cfg settings, users []*user, slugs []string, pages []pageState, ids map[string]string) ([]seat, []int) {
	stride := max(cfg.roomsPerUser/cfg.socketsPerUser, 1)
	var seats []seat
	var rooms []int
	for i := range cfg.users {
		mine := memberOf(cfg, i)
		for j := range cfg.socketsPerUser {
			r := mine[(j*stride)%len(mine)]
			st := seat{slug: slugs[r], after: pages[r].after, seq: pages[r].seq, keys: []string{slugs[r]}}
			if id := ids[slugs[r]]; id != "" {
				st.keys = append(st.keys, id)
			}
			if users != nil {
				st.user = users[i]
			}
			seats = append(seats, st)
			rooms = append(rooms, r)
		}
	}
	return seats, rooms
}

// teamSpec sends teamRate messages/s spread evenly over the rooms: one
// stream per room, each from the room's sockets in turn.
func teamSpec(cfg settings, label string, seats []seat, roomOf []int) loadSpec {
	return loadSpec{
		label: label, seats: seats, roomOf: func(i int) int { return roomOf[i] }, rooms: cfg.rooms,
		rate: cfg.teamRate, window: cfg.teamWindow, grace: cfg.teamGrace,
		streams: func(socks []*sock) []stream {
			byRoom := make([][]*sock, cfg.rooms)
			for _, s := range socks {
				byRoom[s.room] = append(byRoom[s.room], s)
			}
			period := time.Duration(float64(time.Second) * float64(cfg.rooms) / cfg.teamRate)
			var out []stream
			for r, ss := range byRoom {
				if len(ss) > 0 {
					out = append(out, stream{room: r, socks: ss, period: period, offset: time.Duration(r) * period / time.Duration(cfg.rooms)})
				}
			}
			return out
		},
	}
}
