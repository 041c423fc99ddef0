package views

import (
	"net/url"
	"strconv"
	"strings"

	"agora/chat"
)

// UserStorage is one line of the admin's storage page.
type UserStorage struct {
	Username string
	Name     string
	chat.Storage
	Own bool // Limit is the account's own, not the server's default
}

// ServerStorage is the server's line on the admin's storage page: the
// default limit of an account, and all files against the server's total.
type ServerStorage struct {
	Quota int64 // 0: none
	chat.Storage
}

// fileURL is where a file is served; the name is only for people and for
// "save as", the id finds it.
func fileURL(f *chat.File) string {
	return "/files/" + strconv.FormatInt(f.ID, 10) + "/" + url.PathEscape(f.Name)
}

func thumbURL(f *chat.File) string {
	return "/files/" + strconv.FormatInt(f.ID, 10) + "/thumb/" + url.PathEscape(f.Name)
}

func itoa(n int) string { return strconv.Itoa(n) }

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// fileBadge is the file's extension, short, for the card's icon.
func fileBadge(f *chat.File) string {
	i := strings.LastIndexByte(f.Name, '.')
	if i < 0 || len(f.Name)-i > 6 || i == len(f.Name)-1 {
		return "FILE"
	}
	return strings.ToUpper(f.Name[i+1:])
}

// fileTypeText is the file's type without parameters.
func fileTypeText(f *chat.File) string {
	t, _, _ := strings.Cut(f.ContentType, ";")
	return strings.TrimSpace(t)
}

func maxUploadText(n string) string {
	b, err := strconv.ParseInt(n, 10, 64)
	if err != nil {
		return n
	}
	return chat.SizeText(b)
}

func percent(st chat.Storage) string {
	if st.Limit <= 0 {
		return ""
	}
	return strconv.FormatInt(st.Used*100/st.Limit, 10) + "%"
}

func limitMB(n int64) string {
	if n <= 0 {
		return ""
	}
	return strconv.FormatInt((n+(1<<20)-1)>>20, 10)
}

// ownLimitMB is the account's own limit in the admin's form: empty where
// the server's default applies.
func ownLimitMB(u UserStorage) string {
	if !u.Own {
		return ""
	}
	return limitMB(u.Limit)
}
