package chat

import "time"

// EventPreview is a message's link preview attached (fetched after the
// message was sent) or removed by its author.
const EventPreview = "preview"

// LinkPreview is what a message shows of the first page it links to: the
// page's own title, description and site name, and its picture copied into
// the store (never linked from the page's server). Every field is text the
// page chose: shown escaped, never as markup.
type LinkPreview struct {
	ID          int64     `json:"id"`
	URL         string    `json:"url"`
	Title       string    `json:"title,omitempty"`
	Description string    `json:"description,omitempty"`
	Site        string    `json:"site,omitempty"`
	FetchedAt   time.Time `json:"fetched_at"`
	// ImageWidth and ImageHeight are the size the picture is shown at, in
	// CSS pixels; 0 when there is no picture.
	ImageWidth  int `json:"image_width,omitempty"`
	ImageHeight int `json:"image_height,omitempty"`
}

// HasImage reports whether the preview has a picture stored with it.
func (p LinkPreview) HasImage() bool { return p.ImageWidth > 0 }

// Empty reports whether a page gave nothing worth showing.
func (p LinkPreview) Empty() bool { return p.Title == "" && p.Description == "" && !p.HasImage() }

// PreviewFresh is how long a fetched page's preview is used for every
// message that links to it before the page is fetched again.
const PreviewFresh = 24 * time.Hour

// Limits of what a preview keeps of a page's text, in runes.
const (
	MaxPreviewTitle       = 200
	MaxPreviewDescription = 400
	MaxPreviewSite        = 80
)
