package slackimport

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"agora/chat/mrkdwn"
)

// What a Slack workspace export holds (Slack's "Export data" of a
// workspace): users.json, channels.json (public channels, or private ones
// marked is_private), groups.json (private channels, in exports that
// include them), and a folder per channel of YYYY-MM-DD.json files, each a
// list of that day's messages. Only what agora keeps is read.

type slackUser struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	RealName string `json:"real_name"`
	Deleted  bool   `json:"deleted"`
	IsBot    bool   `json:"is_bot"`
	IsAdmin  bool   `json:"is_admin"`
	IsOwner  bool   `json:"is_owner"`
	Profile  struct {
		Email       string `json:"email"`
		RealName    string `json:"real_name"`
		DisplayName string `json:"display_name"`
		BotID       string `json:"bot_id"` // a bot user's: its messages may name only this
	} `json:"profile"`
}

type slackChannel struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Created    int64    `json:"created"`
	Creator    string   `json:"creator"`
	IsArchived bool     `json:"is_archived"`
	IsPrivate  bool     `json:"is_private"`
	Members    []string `json:"members"`
	Topic      struct {
		Value string `json:"value"`
	} `json:"topic"`
	Purpose struct {
		Value string `json:"value"`
	} `json:"purpose"`
}

type slackMessage struct {
	Type       string `json:"type"`
	Subtype    string `json:"subtype"`
	TS         string `json:"ts"`
	User       string `json:"user"`
	BotID      string `json:"bot_id"`
	Username   string `json:"username"` // a bot message's name
	Text       string `json:"text"`
	ThreadTS   string `json:"thread_ts"`
	ParentUser string `json:"parent_user_id"`
	BotProfile *struct {
		Name string `json:"name"`
	} `json:"bot_profile"`
	Edited *struct {
		User string `json:"user"`
		TS   string `json:"ts"`
	} `json:"edited"`
	Reactions []struct {
		Name  string   `json:"name"`
		Users []string `json:"users"`
	} `json:"reactions"`
	Files []struct {
		ID         string `json:"id"`
		Name       string `json:"name"`
		Title      string `json:"title"`
		Mode       string `json:"mode"` // "tombstone" for a file deleted since
		Permalink  string `json:"permalink"`
		URLPrivate string `json:"url_private"`
	} `json:"files"`
	Attachments []mrkdwn.Attachment `json:"attachments"`
}

// tsTime reads Slack's ts ("1512085950.000216", seconds and microseconds),
// which is also a message's id in its channel.
func tsTime(ts string) (time.Time, bool) {
	sec, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || s < 0 || s > 1<<40 {
		return time.Time{}, false
	}
	var us int64
	if frac != "" {
		frac = (frac + "000000")[:6]
		if us, err = strconv.ParseInt(frac, 10, 64); err != nil || us < 0 {
			return time.Time{}, false
		}
	}
	return time.Unix(s, us*1000).UTC(), true
}

// decodeList reads a JSON array of T.
func decodeList[T any](data []byte) ([]T, error) {
	var out []T
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, err
	}
	return out, nil
}
