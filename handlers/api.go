package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"agora/chat"
)

// The JSON API (/api/v1/) for bots and integrations. It takes a bearer token
// and nothing else: the session cookie is never looked at, so another site's
// page cannot make a signed-in browser call it, and no CSRF check is needed.

const (
	apiPrefix   = "/api/v1/"
	ctxToken    = "token"
	maxAPIBody  = 64 << 10
	apiPageSize = 50
	apiMaxPage  = 200
)

// apiError is an API failure that has no chat code of its own (a body that
// is not JSON, a body too large).
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Message }

// errorBody is the shape of every API error.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func isAPI(c echo.Context) bool { return strings.HasPrefix(c.Request().URL.Path, apiPrefix) }

// apiErrorResponse answers an API request that failed, as JSON with the
// status of its code. It is handleError's branch for /api/v1/.
func (s *Server) apiErrorResponse(err error, c echo.Context) {
	var body errorBody
	status := http.StatusInternalServerError
	var ae *apiError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &ae):
		status, body.Error.Code, body.Error.Message = ae.Status, ae.Code, ae.Message
	case errors.As(err, &he):
		status = he.Code
		body.Error.Code, body.Error.Message = "http_"+strconv.Itoa(status), http.StatusText(status)
		switch status {
		case http.StatusNotFound:
			body.Error.Code, body.Error.Message = chat.ENotFound, "There is nothing at this address."
		case http.StatusMethodNotAllowed:
			body.Error.Code, body.Error.Message = "method_not_allowed", "That method is not available here."
		}
	default:
		code := chat.ErrorCode(err)
		status, body.Error.Code, body.Error.Message = statusOf[code], code, chat.ErrorMessage(err)
	}
	// The request's one log line, with err for a 5xx, is observe's.
	if status >= 500 {
		body.Error.Code, body.Error.Message = chat.EInternal, chat.ErrorMessage(errors.New(""))
	}
	h := c.Response().Header()
	if status == http.StatusTooManyRequests && h.Get("Retry-After") == "" {
		h.Set("Retry-After", "1")
	}
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="agora"`)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	if werr := c.JSON(status, body); werr != nil {
		s.log.Error("write api error", "id", requestID(c), "err", werr)
	}
}

// requireToken lets a request with a working bearer token through, as the
// token's user, and counts it against the token's request budget.
func (s *Server) requireToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		scheme, token, _ := strings.Cut(c.Request().Header.Get("Authorization"), " ")
		token = strings.TrimSpace(token)
		if !strings.EqualFold(scheme, "Bearer") || token == "" {
			return chat.Errorf(chat.EUnauthorized, "This API takes a token: send Authorization: Bearer {token}. Make one at /settings/tokens.")
		}
		ctx := c.Request().Context()
		u, id, used, err := s.store.TokenUser(ctx, chat.HashToken(token))
		if err == nil {
			err = s.admit(u) // deactivated accounts' tokens stop working
		}
		if err != nil {
			return err
		}
		key := strconv.FormatInt(id, 10)
		if !s.apiLimits.Allow(key) {
			return tooFast(c, s.apiLimits.Delay(key), "Too many requests with this token. Please slow down.")
		}
		// "Last used" is coalesced: one write a minute at most, not one per call.
		if now := time.Now(); now.Sub(used) >= time.Minute {
			if err := s.store.TouchToken(ctx, id, now); err != nil {
				s.log.Warn("token last used", "token", id, "err", err)
			}
		}
		c.Set(ctxUser, u)
		c.Set(ctxToken, id)
		return next(c)
	}
}

// writeAllowed spends one of the token's writes (posts, edits, reactions,
// joins): a flood is answered 429 with Retry-After before it touches the store.
func (s *Server) writeAllowed(c echo.Context) error {
	key := strconv.FormatInt(c.Get(ctxToken).(int64), 10)
	if !s.apiWrites.Allow(key) {
		return tooFast(c, s.apiWrites.Delay(key), "Too many changes with this token. Please wait a moment.")
	}
	return nil
}

func tooFast(c echo.Context, wait time.Duration, msg string) error {
	secs := int(math.Ceil(wait.Seconds()))
	c.Response().Header().Set("Retry-After", strconv.Itoa(max(1, secs)))
	return chat.Errorf(chat.ERateLimit, "%s", msg)
}

// readJSON decodes the request's JSON body into dst. What is not JSON (by
// its content type, its encoding or its syntax) is a 400; a body over
// maxAPIBody is refused as invalid before it is read in full.
func readJSON(c echo.Context, dst any) error {
	mt, params, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil || mt != echo.MIMEApplicationJSON || (params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8")) {
		return &apiError{http.StatusBadRequest, "bad_content_type", "Send the body as JSON, with Content-Type: application/json."}
	}
	raw, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxAPIBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &apiError{http.StatusUnprocessableEntity, "too_large", "The body is larger than the API accepts (64 KiB)."}
	}
	if err != nil {
		return &apiError{http.StatusBadRequest, "bad_request", "The body could not be read."}
	}
	// encoding/json would quietly turn invalid UTF-8 into U+FFFD: refuse it instead.
	if !utf8.Valid(raw) {
		return &apiError{http.StatusBadRequest, "bad_json", "The body is not valid UTF-8."}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(dst); err != nil {
		return &apiError{http.StatusBadRequest, "bad_json", "The body is not the JSON object this call takes: " + jsonProblem(err)}
	}
	if dec.More() {
		return &apiError{http.StatusBadRequest, "bad_json", "The body has more than one JSON value."}
	}
	return nil
}

// jsonProblem says what is wrong with a body without echoing it back.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return "a syntax error at byte " + strconv.FormatInt(syn.Offset, 10) + "."
	case errors.As(err, &typ):
		if typ.Field != "" {
			return "the field " + strconv.Quote(typ.Field) + " has the wrong type."
		}
		return "a value has the wrong type."
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "it is empty or cut short."
	default:
		return "it could not be decoded."
	}
}

// Routes lists the server's routes, so a test can hold the API's OpenAPI
// document against them.
func (s *Server) Routes() []*echo.Route { return s.echo.Routes() }
