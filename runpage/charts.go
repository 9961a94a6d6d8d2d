package runpage

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/srimport/srimport/progress"
)

// chart is one chart of the page: an SVG drawing, inlined.
type chart struct {
	Title string
	// SVG is the drawing. It is trusted markup: gonum/plot escapes its
	// text, and the text is this package's labels and numbers only.
	SVG template.HTML
}

// Chart size, and the colours of its lines.
const (
	chartWidth  = 7.5 * vg.Inch
	chartHeight = 2.6 * vg.Inch
)

// rgb is an opaque colour from its hex code.
func rgb(hex uint32) color.Color {
	return color.RGBA{R: uint8(hex >> 16), G: uint8(hex >> 8), B: uint8(hex), A: 0xff}
}

// The colours of the lines.
const (
	grey   = 0x333333
	green  = 0x1a7f37
	red    = 0xcf222e
	amber  = 0xbf8700
	blue   = 0x0969da
	purple = 0x8250df
)

// line is one line of a chart: a y value per point, or NaN where the
// point has none.
type line struct {
	name  string
	color color.Color
	y     func(progress.Point) float64
}

// timeAxis is the x axis: a point's middle in a unit that suits the run's
// length.
type timeAxis struct {
	label string
	unit  float64 // seconds
	end   float64 // in unit
}

func newTimeAxis(series []progress.Point) timeAxis {
	last := series[len(series)-1]
	end := last.At + last.Seconds
	switch {
	case end > 3*3600:
		return timeAxis{"hours since the start", 3600, end / 3600}
	case end > 180:
		return timeAxis{"minutes since the start", 60, end / 60}
	}
	return timeAxis{"seconds since the start", 1, end}
}

func (a timeAxis) x(p progress.Point) float64 { return (p.At + p.Seconds/2) / a.unit }

// charts draws the run's four charts: rows per second, latency, requests
// and 429s, and the rate limit.
func charts(series []progress.Point) ([]chart, error) {
	if len(series) == 0 {
		return nil, nil
	}
	ax := newTimeAxis(series)
	perSecond := func(n func(progress.Point) int64) func(progress.Point) float64 {
		return func(p progress.Point) float64 { return p.PerSecond(n(p)) }
	}
	withRequests := func(v func(progress.Point) float64) func(progress.Point) float64 {
		return func(p progress.Point) float64 {
			if p.Requests == 0 {
				return math.NaN()
			}
			return v(p)
		}
	}
	rate := "rate limit (requests/s)"
	if !hasAny(series, func(p progress.Point) float64 { return p.Rate }) {
		rate += ": none in force"
	}
	specs := []struct {
		title, yLabel string
		lines         []line
	}{
		{"rows per second", "rows/s", []line{
			{"done", rgb(grey), perSecond(func(p progress.Point) int64 { return p.Done })},
			{"created", rgb(green), perSecond(func(p progress.Point) int64 { return p.Created })},
			{"failed or unknown", rgb(red), perSecond(func(p progress.Point) int64 { return p.Failed + p.Unknown })},
			{"invalid", rgb(amber), perSecond(func(p progress.Point) int64 { return p.Invalid })},
		}},
		{"latency of requests", "ms", []line{
			{"p50", rgb(blue), withRequests(func(p progress.Point) float64 { return p.P50 })},
			{"p95", rgb(purple), withRequests(func(p progress.Point) float64 { return p.P95 })},
			{"p99", rgb(red), withRequests(func(p progress.Point) float64 { return p.P99 })},
		}},
		{"requests and 429 answers per second", "per second", []line{
			{"requests", rgb(blue), perSecond(func(p progress.Point) int64 { return p.Requests })},
			{"429 answers", rgb(red), perSecond(func(p progress.Point) int64 { return p.Throttled })},
		}},
		{rate, "requests/s", []line{
			{"rate limit", rgb(green), func(p progress.Point) float64 {
				if p.Rate <= 0 {
					return math.NaN()
				}
				return p.Rate
			}},
		}},
	}
	out := make([]chart, 0, len(specs))
	for _, s := range specs {
		svg, err := draw1(s.title, s.yLabel, ax, series, s.lines)
		if err != nil {
			return nil, fmt.Errorf("chart %q: %w", s.title, err)
		}
		out = append(out, chart{Title: s.title, SVG: svg})
	}
	return out, nil
}

// hasAny reports whether v is positive for some point.
func hasAny(series []progress.Point, v func(progress.Point) float64) bool {
	for _, p := range series {
		if v(p) > 0 {
			return true
		}
	}
	return false
}

// draw1 draws one chart as SVG markup for inlining in HTML.
func draw1(title, yLabel string, ax timeAxis, series []progress.Point, lines []line) (template.HTML, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = ax.label
	p.Y.Label.Text = yLabel
	for _, ts := range []*plot.Axis{&p.X, &p.Y} {
		ts.Label.TextStyle.Font.Variant = "Sans"
		ts.Tick.Label.Font.Variant = "Sans"
	}
	p.Title.TextStyle.Font.Variant = "Sans"
	p.Legend.TextStyle.Font.Variant = "Sans"
	p.Legend.Top = true
	p.Add(plotter.NewGrid())

	p.X.Min, p.X.Max = 0, max(ax.end, 1e-3)
	top := 0.0
	glyphs := len(series) <= 60 // few points: mark each, so that one point shows
	for _, l := range lines {
		xys := make(plotter.XYs, 0, len(series))
		for _, pt := range series {
			y := l.y(pt)
			if math.IsNaN(y) || math.IsInf(y, 0) {
				continue
			}
			xys = append(xys, plotter.XY{X: ax.x(pt), Y: y})
			top = max(top, y)
		}
		if len(xys) == 0 {
			continue
		}
		ln, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return "", err
		}
		ln.Color = l.color
		ln.Width = vg.Points(1.5)
		p.Add(ln)
		if glyphs {
			pts.Color = l.color
			pts.Shape = draw.CircleGlyph{}
			pts.Radius = vg.Points(2)
			p.Add(pts)
		}
		p.Legend.Add(l.name, ln)
	}
	// Room above the data for the legend.
	p.Y.Min = 0
	p.Y.Max = max(top, 1) * (1 + 0.15*float64(len(lines)))

	c := vgsvg.New(chartWidth, chartHeight)
	p.Draw(draw.New(c))
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return "", err
	}
	svg := b.Bytes()
	// Inline in HTML: no XML declaration; the <svg> element as is.
	if i := bytes.Index(svg, []byte("<svg")); i >= 0 {
		svg = svg[i:]
	}
	return template.HTML(svg), nil
}
