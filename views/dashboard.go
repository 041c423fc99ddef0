package views

import (
	"fmt"
	"strconv"

	"agora/chat"
)

// The dashboard's charts are SVG drawn here, no chart script: bars placed
// in percentages of the chart's width, so a chart fills a phone or a wide
// window without stretching its text, and heights in pixels. Each chart has
// a title and a description (its text alternative) and its numbers as a
// table beside it.

const (
	chartHeight = 160 // pixels of the bars' area
	chartTop    = 18  // room above it for the scale's label
	roomRow     = 34  // pixels per room in the busiest rooms' chart
)

// DashboardData is what the dashboard shows.
type DashboardData struct {
	Stats        chat.Stats
	StorageLimit int64 // the server's total limit of files, 0 for none
	Messages     Chart
	People       Chart
	Storage      Chart
	Rooms        Chart
}

// Chart is one chart: a series of values with their labels.
type Chart struct {
	ID      string // chart-{ID} is its element's id
	Title   string
	Desc    string
	Column  string // the heading of the values in the table
	Points  []ChartPoint
	Top     int64 // the scale's top: a round number at least the largest value
	TopText string
}

// ChartPoint is one bar.
type ChartPoint struct {
	Label string // as the table and the bar's tooltip show it
	Date  string // YYYY-MM-DD for a day, "" otherwise
	Value int64
	Text  string // the value as people read it
}

// Dashboard makes the charts of st.
func Dashboard(st chat.Stats, storageLimit int64) DashboardData {
	d := DashboardData{Stats: st, StorageLimit: storageLimit}
	count := func(n int64) string { return strconv.FormatInt(n, 10) }
	days := func(id, title, column string, value func(chat.DayStats) int64, text func(int64) string) Chart {
		c := Chart{ID: id, Title: title, Column: column}
		var most ChartPoint
		for _, day := range st.Days {
			p := ChartPoint{Label: day.Day.Format("Mon 2 Jan"), Date: day.Day.Format("2006-01-02"), Value: value(day)}
			p.Text = text(p.Value)
			if p.Value > most.Value {
				most = p
			}
			c.Points = append(c.Points, p)
		}
		c.Top, c.TopText = scaleTop(most.Value, text, id == "storage")
		return c
	}
	d.Messages = days("messages", "Messages per day", "Messages", func(x chat.DayStats) int64 { return x.Messages }, count)
	d.Messages.Desc = fmt.Sprintf("%s messages in the last %d days%s.", count(st.Messages), len(st.Days), busiest(d.Messages))
	d.People = days("people", "People active per day", "People", func(x chat.DayStats) int64 { return x.ActivePeople }, count)
	d.People.Desc = fmt.Sprintf("%s people wrote in the last %d days%s.", count(st.ActivePeople), len(st.Days), busiest(d.People))
	d.Storage = days("storage", "Storage used", "Files kept", func(x chat.DayStats) int64 { return x.StorageBytes }, chat.SizeText)
	d.Storage.Desc = "Files take " + chat.SizeText(st.StorageBytes) + " now"
	if n := len(d.Storage.Points); n > 0 {
		d.Storage.Desc += ", " + d.Storage.Points[0].Text + " at the end of " + d.Storage.Points[0].Label
	}
	d.Storage.Desc += "."
	d.Rooms = Chart{ID: "rooms", Title: "Busiest rooms", Column: "Messages"}
	var most int64
	for _, r := range st.BusiestRooms {
		d.Rooms.Points = append(d.Rooms.Points, ChartPoint{Label: "#" + r.Name, Value: r.Messages, Text: count(r.Messages)})
		most = max(most, r.Messages)
	}
	d.Rooms.Top, d.Rooms.TopText = scaleTop(most, count, false)
	d.Rooms.Desc = "No messages in rooms in the last 30 days."
	if len(st.BusiestRooms) > 0 {
		r := st.BusiestRooms[0]
		d.Rooms.Desc = fmt.Sprintf("The busiest of %d rooms is #%s, with %d messages.", len(st.BusiestRooms), r.Name, r.Messages)
	}
	return d
}

// busiest names the day with most, for a chart's description.
func busiest(c Chart) string {
	var most ChartPoint
	for _, p := range c.Points {
		if p.Value > most.Value {
			most = p
		}
	}
	if most.Value == 0 {
		return ""
	}
	return fmt.Sprintf(", the most on %s (%s)", most.Label, most.Text)
}

// scaleTop is the round number a chart's scale ends at: 1, 2 or 5 times a
// power of ten (of 1024 for bytes, which read as KB, MB...), at least v.
func scaleTop(v int64, text func(int64) string, bytes bool) (int64, string) {
	unit := int64(1)
	if bytes {
		for unit < 1<<50 && v > unit*1024 {
			unit *= 1024
		}
	}
	for step := int64(1); ; step *= 10 {
		for _, m := range []int64{1, 2, 5} {
			top := m * step * unit
			if bytes && m*step >= 1000 {
				top = unit * 1024 // 1 MB, not 1000 KB
			}
			if top >= v {
				return top, text(top)
			}
		}
	}
}

// bar is one bar's place: x and width in percent of the chart's width, y
// and height in pixels; TX is where a room's count goes, after its bar.
type bar struct {
	X, W, Y, H, TX string
}

// dayBar places the i-th of a day chart's bars.
func dayBar(c Chart, i int) bar {
	n := float64(len(c.Points))
	h := 0.0
	if c.Top > 0 {
		h = float64(c.Points[i].Value) * chartHeight / float64(c.Top)
	}
	slot := 100 / n
	return bar{X: pct(float64(i)*slot + slot*0.15), W: pct(slot * 0.7), Y: px(chartTop + chartHeight - h), H: px(h)}
}

// roomBar places the i-th room's bar, under its name.
func roomBar(c Chart, i int) bar {
	w := 0.0
	if c.Top > 0 {
		w = float64(c.Points[i].Value) * 80 / float64(c.Top)
	}
	return bar{X: "0", W: pct(w), Y: px(float64(i*roomRow + 18)), H: "10", TX: pct(w + 1.5)}
}

// roomLabelY is the baseline of the i-th room's name, above its bar;
// roomCountY that of its count, beside the bar.
func roomLabelY(i int) string { return px(float64(i*roomRow + 13)) }
func roomCountY(i int) string { return px(float64(i*roomRow + 27)) }

func pct(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) + "%" }
func px(v float64) string  { return strconv.FormatFloat(v, 'f', 1, 64) }

func chartSVGHeight() string        { return strconv.Itoa(chartTop + chartHeight + 1) }
func roomsSVGHeight(c Chart) string { return strconv.Itoa(len(c.Points)*roomRow + 4) }
func chartTopY() string             { return strconv.Itoa(chartTop) }
func chartBaseY() string            { return strconv.Itoa(chartTop + chartHeight) }
func chartMidY() string             { return strconv.Itoa(chartTop + chartHeight/2) }
