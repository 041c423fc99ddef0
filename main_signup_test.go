package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

func TestRunRefusesAnUnknownSignupMode(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
	}{
		{[]string{"agora", "-signup", "sometimes"}, nil},
		{[]string{"agora"}, map[string]string{"CHAT_SIGNUP": "maybe"}},
	} {
		err := run(context.Background(), tc.args, func(k string) string { return tc.env[k] }, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "-signup must be open, invite or closed") {
			t.Errorf("%v %v: %v", tc.args, tc.env, err)
		}
	}
}
