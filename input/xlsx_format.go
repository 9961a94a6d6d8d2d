package input

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// Number formats. A cell's style (its s attribute) indexes the styles
// part's cellXfs, whose numFmtId is a built-in format (below 164) or one
// of the workbook's own numFmts. Dates and times are rendered here as ISO
// 8601; other non-General formats go through excelize's number-format
// engine, on a scratch one-sheet workbook.

type numKind uint8

const (
	kindGeneral numKind = iota
	kindDate
	kindTime
	kindDateTime
	kindElapsed // [h]:mm:ss
	kindNumber  // any other format: excelize renders it
)

type numStyle struct {
	kind    numKind
	code    string
	subSecs bool // the format shows fractions of a second
}

// styleTable maps a cell's style index to its number format.
type styleTable struct {
	xfs      []int // numFmtId by cellXfs index
	codes    map[int]string
	styles   []*numStyle // by cellXfs index, filled in as met
	date1904 bool

	scratch *excelize.File    // formats kindNumber values; nil until needed
	cellOf  map[string]string // scratch cell by format code, "" if unusable
}

type xmlStyles struct {
	NumFmts []struct {
		ID   int    `xml:"numFmtId,attr"`
		Code string `xml:"formatCode,attr"`
	} `xml:"numFmts>numFmt"`
	Xfs []struct {
		NumFmtID int `xml:"numFmtId,attr"`
	} `xml:"cellXfs>xf"`
}

// loadStyles reads the styles part.
func (p *xlsxPackage) loadStyles() (*styleTable, error) {
	st := &styleTable{codes: map[int]string{}, date1904: p.date1904}
	if name := p.relPart("styles", "xl/styles.xml"); p.part(name) != nil {
		var x xmlStyles
		if err := p.unmarshalPart(name, &x); err != nil {
			return nil, err
		}
		for _, f := range x.NumFmts {
			st.codes[f.ID] = f.Code
		}
		st.xfs = make([]int, len(x.Xfs))
		for i, xf := range x.Xfs {
			st.xfs[i] = xf.NumFmtID
		}
		st.styles = make([]*numStyle, len(x.Xfs))
	}
	return st, nil
}

var generalStyle = &numStyle{kind: kindGeneral}

// style returns the number format of style index i.
func (st *styleTable) style(i int) *numStyle {
	if i < 0 || i >= len(st.xfs) {
		return generalStyle
	}
	if ns := st.styles[i]; ns != nil {
		return ns
	}
	id := st.xfs[i]
	code, ok := st.codes[id]
	if !ok {
		code = builtinFormats[id]
	}
	ns := numFmtKind(code)
	if !ok && (27 <= id && id <= 36 || 50 <= id && id <= 58) {
		// East Asian built-in date formats: their codes depend on the
		// reader's locale.
		ns = &numStyle{kind: kindDate}
	}
	st.styles[i] = ns
	return ns
}

// builtinFormats are the numFmtIds with an implied code (ECMA-376 Part 1,
// 18.8.30, in the en-US form Excel uses).
var builtinFormats = map[int]string{
	0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00",
	5: `"$"#,##0_);\("$"#,##0\)`, 6: `"$"#,##0_);[Red]\("$"#,##0\)`,
	7: `"$"#,##0.00_);\("$"#,##0.00\)`, 8: `"$"#,##0.00_);[Red]\("$"#,##0.00\)`,
	9: "0%", 10: "0.00%", 11: "0.00E+00", 12: "# ?/?", 13: "# ??/??",
	14: "mm-dd-yy", 15: "d-mmm-yy", 16: "d-mmm", 17: "mmm-yy",
	18: "h:mm AM/PM", 19: "h:mm:ss AM/PM", 20: "h:mm", 21: "h:mm:ss", 22: "m/d/yy h:mm",
	37: "#,##0 ;(#,##0)", 38: "#,##0 ;[Red](#,##0)", 39: "#,##0.00;(#,##0.00)", 40: "#,##0.00;[Red](#,##0.00)",
	41: `_(* #,##0_);_(* \(#,##0\);_(* "-"_);_(@_)`,
	42: `_("$"* #,##0_);_("$"* \(#,##0\);_("$"* "-"_);_(@_)`,
	43: `_(* #,##0.00_);_(* \(#,##0.00\);_(* "-"??_);_(@_)`,
	44: `_("$"* #,##0.00_);_("$"* \(#,##0.00\);_("$"* "-"??_);_(@_)`,
	45: "mm:ss", 46: "[h]:mm:ss", 47: "mmss.0", 48: "##0.0E+0", 49: "@",
}

// numFmtKind tells what a format code displays, from its first section:
// letters d, m, y, h, s outside quotes, escapes and brackets (and the
// bracketed elapsed-time codes [h], [mm], [ss]) make a date or a time; m
// is minutes next to h or s, else the month.
func numFmtKind(code string) *numStyle {
	if code == "" || strings.EqualFold(code, "General") || code == "@" {
		return generalStyle
	}
	var date, hour, min, sec, month, elapsed, subSecs bool
	lower := strings.ToLower(code)
scan:
	for i := 0; i < len(lower); i++ {
		c := lower[i]
		switch c {
		case ';':
			break scan
		case '"':
			if j := strings.IndexByte(lower[i+1:], '"'); j >= 0 {
				i += j + 1
			} else {
				i = len(lower)
			}
		case '\\', '_', '*':
			i++
		case '[':
			j := strings.IndexByte(lower[i:], ']')
			if j < 0 {
				break scan
			}
			in := lower[i+1 : i+j]
			if in != "" && strings.Trim(in, string(in[0])) == "" && strings.ContainsRune("hms", rune(in[0])) {
				elapsed = true
			}
			i += j
		case 'a':
			if strings.HasPrefix(lower[i:], "am/pm") {
				hour = true
				i += 4
			} else if strings.HasPrefix(lower[i:], "a/p") {
				hour = true
				i += 2
			}
		case 'g':
			if strings.HasPrefix(lower[i:], "general") {
				i += 6
			}
		case 'e':
			if i+1 == len(lower) || lower[i+1] != '+' && lower[i+1] != '-' {
				date = true // a year in some locales; E+ is an exponent
			}
		case 'y', 'd':
			date = true
		case 'h':
			hour = true
		case 's':
			sec = true
			if i+2 < len(lower) && lower[i+1] == '.' && lower[i+2] == '0' {
				subSecs = true
			}
		case 'm':
			month = true
		case '.':
			if i+1 < len(lower) && lower[i+1] == '0' && (sec || subSecs) {
				subSecs = true
			}
		}
	}
	if month && (hour || sec) && !date {
		min, month = true, false
	}
	switch t := hour || min || sec; {
	case elapsed:
		return &numStyle{kind: kindElapsed, code: code, subSecs: subSecs}
	case (date || month) && t:
		return &numStyle{kind: kindDateTime, code: code, subSecs: subSecs}
	case date || month:
		return &numStyle{kind: kindDate, code: code}
	case t:
		return &numStyle{kind: kindTime, code: code, subSecs: subSecs}
	}
	return &numStyle{kind: kindNumber, code: code}
}

// number renders the numeric value v of a cell with style s.
func (st *styleTable) number(v string, s int) string {
	ns := st.style(s)
	switch ns.kind {
	case kindGeneral:
		return generalNumber(v)
	case kindNumber:
		return st.custom(ns.code, v)
	}
	x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return v
	}
	if t, ok := serialText(x, ns, st.date1904); ok {
		return t
	}
	return generalNumber(v)
}

// serialText renders a date serial number for a date or time format.
func serialText(x float64, ns *numStyle, date1904 bool) (string, bool) {
	if x < 0 || x >= 2958466 || math.IsNaN(x) { // past 9999-12-31
		return "", false
	}
	var ms int64
	if ns.subSecs {
		ms = int64(math.Round(x * 86400e3))
	} else {
		ms = int64(math.Round(x*86400)) * 1000
	}
	days, inDay := ms/86400e3, ms%86400e3
	clock := fmt.Sprintf("%02d:%02d:%02d", inDay/3600e3, inDay/60e3%60, inDay/1e3%60)
	if ns.subSecs {
		clock += fmt.Sprintf(".%03d", inDay%1000)
	}
	if ns.kind == kindElapsed {
		h := ms / 3600e3
		s := fmt.Sprintf("%d:%02d:%02d", h, ms/60e3%60, ms/1e3%60)
		if ns.subSecs {
			s += fmt.Sprintf(".%03d", ms%1000)
		}
		return s, true
	}
	if ns.kind == kindTime {
		return clock, true
	}
	var date string
	switch {
	case date1904:
		date = time.Date(1904, 1, 1+int(days), 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	case days == 0:
		if ns.kind == kindDateTime {
			return clock, true // a time typed into a date-time cell
		}
		return "", false // Excel's "1900-01-00"
	case days == 60:
		date = "1900-02-29" // Lotus 1-2-3's leap day, kept by Excel
	case days < 60:
		date = time.Date(1899, 12, 31+int(days), 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	default:
		date = time.Date(1899, 12, 30+int(days), 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	}
	if ns.kind == kindDate {
		return date, true
	}
	return date + "T" + clock, true
}

// isoDate renders the ISO 8601 value of a t="d" cell by its format.
func (st *styleTable) isoDate(v string, s int) string {
	var t time.Time
	var err error
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", time.DateOnly, "15:04:05.999999999"} {
		if t, err = time.Parse(layout, strings.TrimSpace(v)); err == nil {
			break
		}
	}
	if err != nil {
		return v
	}
	clock := t.Format(time.TimeOnly)
	switch st.style(s).kind {
	case kindDate:
		return t.Format(time.DateOnly)
	case kindTime, kindElapsed:
		return clock
	}
	if clock == "00:00:00" {
		return t.Format(time.DateOnly)
	}
	return t.Format("2006-01-02T15:04:05")
}

// generalNumber renders v as Excel's General format and formula bar do:
// 15 significant digits, plain notation from 1e-9 to 1e21.
func generalNumber(v string) string {
	if plainInt(v) {
		return v
	}
	x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
		return v
	}
	if x == 0 {
		return "0"
	}
	x, _ = strconv.ParseFloat(strconv.FormatFloat(x, 'g', 15, 64), 64)
	if a := math.Abs(x); a >= 1e21 || a < 1e-9 {
		return strconv.FormatFloat(x, 'E', -1, 64)
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}

// plainInt reports an integer of at most 15 digits written plainly.
func plainInt(v string) bool {
	d := v
	if strings.HasPrefix(d, "-") {
		d = d[1:]
	}
	if d == "" || len(d) > 15 || d[0] == '0' && len(d) > 1 {
		return false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	return d != "0" || v == "0"
}

// custom renders v by a non-date number format code through excelize.
// A code excelize cannot take falls back to General.
func (st *styleTable) custom(code, v string) (out string) {
	if _, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
		return v
	}
	defer func() {
		if recover() != nil { // a hostile format code must not end the run
			out = generalNumber(v)
		}
	}()
	if st.scratch == nil {
		st.scratch = excelize.NewFile()
		st.cellOf = map[string]string{}
	}
	cell, ok := st.cellOf[code]
	if !ok {
		if id, err := st.scratch.NewStyle(&excelize.Style{CustomNumFmt: &code}); err == nil {
			cell = "A" + strconv.Itoa(len(st.cellOf)+1)
			if st.scratch.SetCellStyle("Sheet1", cell, cell, id) != nil {
				cell = ""
			}
		}
		st.cellOf[code] = cell
	}
	if cell == "" {
		return generalNumber(v)
	}
	if st.scratch.SetCellDefault("Sheet1", cell, strings.TrimSpace(v)) != nil {
		return generalNumber(v)
	}
	s, err := st.scratch.GetCellValue("Sheet1", cell)
	if err != nil {
		return generalNumber(v)
	}
	return strings.TrimSpace(s)
}

func (st *styleTable) Close() error {
	if st.scratch != nil {
		return st.scratch.Close()
	}
	return nil
}
