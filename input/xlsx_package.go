package input

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/richardlehane/mscfb"
	"github.com/xuri/excelize/v2"
)

// xlsxPackage is an open workbook: its zip parts and what the workbook
// part says about them.
type xlsxPackage struct {
	file     *os.File // nil for a decrypted workbook, held in memory
	parts    map[string]*zip.File
	folded   map[string]*zip.File // by lower-case name, for odd writers
	wbRels   map[string]rel       // by id
	sheets   []sheetEntry
	date1904 bool
	sst      *sharedStrings
}

type rel struct{ typ, target string }

type sheetEntry struct {
	name   string
	kind   string // "worksheet", "chartsheet", "dialogsheet", ...
	part   string
	hidden bool
}

var (
	zipMagic = []byte("PK\x03\x04")
	cfbMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
)

const xlsxSaveAs = `open it in Excel and save it as "Excel Workbook (.xlsx)" or "CSV UTF-8"`

// openPackage opens the workbook file, decrypting it if need be, and reads
// its workbook part. notes are remarks for a person.
func openPackage(name, password string) (_ *xlsxPackage, notes []string, err error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, nil, err
	}
	head = head[:n]
	p := &xlsxPackage{}
	var zr *zip.Reader
	switch {
	case n == 0:
		return nil, nil, fmt.Errorf("%w: the file is empty (0 bytes), not a workbook", ErrCorrupt)
	case bytes.HasPrefix(head, cfbMagic):
		encrypted, what := sniffCFB(f)
		if !encrypted {
			return nil, nil, fmt.Errorf("%w: the file is %s; %s", ErrNotXLSX, what, xlsxSaveAs)
		}
		if password == "" {
			return nil, nil, ErrEncrypted
		}
		if zr, err = xlsxDecrypt(f, password); err != nil {
			return nil, nil, err
		}
		f.Close()
	case bytes.HasPrefix(head, zipMagic) || bytes.HasPrefix(head, []byte("PK\x05\x06")):
		zr, err = zip.NewReader(f, fi.Size())
		if err != nil {
			return nil, nil, fmt.Errorf("%w: the zip structure is broken, probably a truncated download or copy (%v); get the file again or %s", ErrCorrupt, err, xlsxSaveAs)
		}
		p.file = f
		if password != "" {
			notes = append(notes, "the workbook is not password-protected; --password was not needed")
		}
	default:
		return nil, nil, fmt.Errorf("%w: the file is %s", ErrNotXLSX, sniffOther(head))
	}
	p.parts = make(map[string]*zip.File, len(zr.File))
	p.folded = make(map[string]*zip.File, len(zr.File))
	for _, zf := range zr.File {
		name := strings.TrimPrefix(strings.ReplaceAll(zf.Name, `\`, "/"), "/")
		p.parts[name] = zf
		p.folded[strings.ToLower(name)] = zf
	}
	if err := p.readWorkbook(); err != nil {
		return nil, nil, err
	}
	return p, notes, nil
}

// sniffCFB tells an encrypted OOXML package from the other OLE compound
// files (a legacy .xls, .doc, .msg).
func sniffCFB(f *os.File) (encrypted bool, what string) {
	what = "an Office 97-2003 file (such as a legacy Excel .xls workbook)"
	doc, err := mscfb.New(f)
	if err != nil {
		return false, what
	}
	for e, err := doc.Next(); err == nil; e, err = doc.Next() {
		switch e.Name {
		case "EncryptionInfo", "EncryptedPackage":
			return true, ""
		case "Workbook", "Book":
			what = "an Excel 97-2003 workbook (.xls)"
		case "WordDocument":
			what = "a Word 97-2003 document (.doc)"
		}
	}
	return false, what
}

// xlsxDecrypt decrypts an encrypted workbook into memory.
func xlsxDecrypt(f *os.File, password string) (*zip.Reader, error) {
	raw, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<62))
	if err != nil {
		return nil, err
	}
	b, err := excelize.Decrypt(raw, &excelize.Options{Password: password})
	if errors.Is(err, excelize.ErrUnsupportedEncryptMechanism) || errors.Is(err, excelize.ErrUnknownEncryptMechanism) {
		return nil, fmt.Errorf("%w: the workbook's encryption method cannot be read (%v); open it in Excel, remove the password (File > Info > Protect Workbook) and save it", ErrUnsupported, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: the encrypted workbook cannot be read (%v)", ErrCorrupt, err)
	}
	// Neither of the encryption methods excelize reads checks the
	// password: a wrong one yields noise, which is not a zip archive.
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, ErrPassword
	}
	return zr, nil
}

// sniffOther names what a file that is neither zip nor OLE looks like,
// and what to do.
func sniffOther(head []byte) string {
	t := bytes.TrimLeft(bytes.TrimPrefix(head, []byte{0xEF, 0xBB, 0xBF}), " \t\r\n")
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}) || bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return "UTF-16 text (perhaps a tab-separated export renamed to .xlsx); save it as \"CSV UTF-8\""
	case bytes.HasPrefix(t, []byte("<")):
		return "an XML or HTML file (such as an \"XML Spreadsheet 2003\" or a web page saved with an Excel name); " + xlsxSaveAs
	case xlsxIsText(t):
		return "plain text (probably a CSV file renamed to .xlsx); rename it to .csv"
	}
	return "of an unknown kind (an .xlsx workbook is a zip archive); " + xlsxSaveAs
}

func xlsxIsText(b []byte) bool {
	for _, c := range b {
		if c < 0x09 || (c > 0x0D && c < 0x20) {
			return false
		}
	}
	return true
}

// part returns the zip entry of a part name, matched exactly or ignoring
// case.
func (p *xlsxPackage) part(name string) *zip.File {
	name = strings.TrimPrefix(name, "/")
	if zf := p.parts[name]; zf != nil {
		return zf
	}
	return p.folded[strings.ToLower(name)]
}

// openPart opens the part called name.
func (p *xlsxPackage) openPart(name string) (io.ReadCloser, error) {
	zf := p.part(name)
	if zf == nil {
		return nil, fmt.Errorf("%w: part %s is missing", ErrCorrupt, name)
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, xlsxCorrupt(name, err)
	}
	return rc, nil
}

// readSmall reads a part that is held in memory whole.
func (p *xlsxPackage) readSmall(name string) ([]byte, error) {
	rc, err := p.openPart(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxSmallPart+1))
	if err != nil {
		return nil, xlsxCorrupt(name, err)
	}
	if len(b) > maxSmallPart {
		return nil, fmt.Errorf("%w: part %s is larger than %d MiB unpacked; no workbook has one that large (a zip bomb?)", ErrCorrupt, name, maxSmallPart>>20)
	}
	if bytes.Contains(b, []byte("<!DOCTYPE")) || bytes.Contains(b, []byte("<!ENTITY")) {
		return nil, xlsxDTDError(name)
	}
	return b, nil
}

func xlsxDTDError(name string) error {
	return fmt.Errorf("%w: part %s holds an XML document type declaration (<!DOCTYPE or <!ENTITY), which workbooks never have; refusing it as a possible XML entity attack", ErrCorrupt, name)
}

// xlsxCorrupt wraps an error met while reading a part.
func xlsxCorrupt(name string, err error) error {
	if errors.Is(err, ErrCorrupt) {
		return err
	}
	return fmt.Errorf("%w: cannot read part %s: %v; the file is probably truncated or damaged", ErrCorrupt, name, err)
}

// unmarshalPart reads a small part into v.
func (p *xlsxPackage) unmarshalPart(name string, v any) error {
	b, err := p.readSmall(name)
	if err != nil {
		return err
	}
	if err := xml.Unmarshal(b, v); err != nil {
		return xlsxCorrupt(name, err)
	}
	return nil
}

type xmlRels struct {
	Rels []struct {
		ID     string `xml:"Id,attr"`
		Type   string `xml:"Type,attr"`
		Target string `xml:"Target,attr"`
		Mode   string `xml:"TargetMode,attr"`
	} `xml:"Relationship"`
}

// readRels reads the relationships of part name, with targets resolved to
// part names.
func (p *xlsxPackage) readRels(name string) (map[string]rel, error) {
	dir, file := path.Split(name)
	relsName := dir + "_rels/" + file + ".rels"
	if p.part(relsName) == nil {
		return nil, nil
	}
	var x xmlRels
	if err := p.unmarshalPart(relsName, &x); err != nil {
		return nil, err
	}
	m := make(map[string]rel, len(x.Rels))
	for _, r := range x.Rels {
		if strings.EqualFold(r.Mode, "External") {
			continue
		}
		t := strings.ReplaceAll(r.Target, `\`, "/")
		if strings.HasPrefix(t, "/") {
			t = path.Clean(t)[1:]
		} else {
			t = path.Clean(path.Join(dir, t))
		}
		typ := r.Type[strings.LastIndexByte(r.Type, '/')+1:]
		m[r.ID] = rel{typ: typ, target: t}
	}
	return m, nil
}

type xmlWorkbook struct {
	Pr struct {
		Date1904 string `xml:"date1904,attr"`
	} `xml:"workbookPr"`
	Sheets []struct {
		Name  string     `xml:"name,attr"`
		State string     `xml:"state,attr"`
		Attrs []xml.Attr `xml:",any,attr"`
	} `xml:"sheets>sheet"`
}

// readWorkbook finds the workbook part and reads its sheet list.
func (p *xlsxPackage) readWorkbook() error {
	if err := p.notWorkbook(); err != nil {
		return err
	}
	root, err := p.readRels("")
	if err != nil {
		return err
	}
	wbPath := "xl/workbook.xml"
	for _, r := range root {
		if r.typ == "officeDocument" {
			wbPath = r.target
		}
	}
	if p.part(wbPath) == nil {
		return fmt.Errorf("%w: the zip archive has no workbook part (%s); %s", ErrCorrupt, wbPath, xlsxSaveAs)
	}
	if p.wbRels, err = p.readRels(wbPath); err != nil {
		return err
	}
	var wb xmlWorkbook
	if err := p.unmarshalPart(wbPath, &wb); err != nil {
		return err
	}
	p.date1904 = wb.Pr.Date1904 == "1" || wb.Pr.Date1904 == "true"
	for _, s := range wb.Sheets {
		e := sheetEntry{name: s.Name, hidden: s.State == "hidden" || s.State == "veryHidden"}
		for _, a := range s.Attrs {
			if a.Name.Local == "id" && a.Name.Space != "" {
				r := p.wbRels[a.Value]
				e.kind, e.part = r.typ, r.target
			}
		}
		p.sheets = append(p.sheets, e)
	}
	return nil
}

// notWorkbook recognises zip archives that are other documents.
func (p *xlsxPackage) notWorkbook() error {
	if zf := p.part("mimetype"); zf != nil {
		what := "an OpenDocument file"
		if rc, err := zf.Open(); err == nil {
			b, _ := io.ReadAll(io.LimitReader(rc, 200))
			rc.Close()
			switch m := string(bytes.TrimSpace(b)); {
			case m == "application/vnd.oasis.opendocument.spreadsheet":
				what = "an OpenDocument spreadsheet (.ods)"
			case strings.HasPrefix(m, "application/vnd.oasis.opendocument."):
				what = "an OpenDocument file (" + m + ")"
			}
		}
		return fmt.Errorf("%w: the file is %s; open it in LibreOffice Calc or Excel and save it as \"Excel 2007-365 (.xlsx)\" or as CSV (UTF-8)", ErrNotXLSX, what)
	}
	var what string
	switch {
	case p.part("xl/workbook.bin") != nil:
		what = "an Excel binary workbook (.xlsb)"
	case p.part("word/document.xml") != nil:
		what = "a Word document (.docx)"
	case p.part("ppt/presentation.xml") != nil:
		what = "a PowerPoint presentation (.pptx)"
	case p.part("[Content_Types].xml") == nil:
		what = "a zip archive of other files"
	default:
		return nil
	}
	return fmt.Errorf("%w: the file is %s; %s", ErrNotXLSX, what, xlsxSaveAs)
}

// pickSheet returns the sheet named want (exactly, else ignoring case),
// or by default the first visible worksheet, with notes on the choice.
func (p *xlsxPackage) pickSheet(want string) (sheetEntry, []string, error) {
	if want != "" {
		for pass := range 2 {
			for _, s := range p.sheets {
				if s.name == want || pass == 1 && strings.EqualFold(strings.TrimSpace(s.name), strings.TrimSpace(want)) {
					if s.kind != "worksheet" {
						return s, nil, fmt.Errorf("%w: sheet %q is a %s, which holds no rows; the workbook's sheets are %s", ErrNoSheet, s.name, kindName(s.kind), p.sheetList())
					}
					var notes []string
					if s.hidden {
						notes = append(notes, fmt.Sprintf("using sheet %q, which is hidden", s.name))
					}
					return s, notes, nil
				}
			}
		}
		return sheetEntry{}, nil, fmt.Errorf("%w: the workbook has no sheet named %q; its sheets are %s", ErrNoSheet, want, p.sheetList())
	}
	var hidden, visible []string
	var pick *sheetEntry
	for i, s := range p.sheets {
		if s.kind != "worksheet" {
			continue
		}
		if s.hidden {
			hidden = append(hidden, fmt.Sprintf("%q", s.name))
			continue
		}
		visible = append(visible, fmt.Sprintf("%q", s.name))
		if pick == nil {
			pick = &p.sheets[i]
		}
	}
	if pick == nil {
		if len(hidden) > 0 {
			return sheetEntry{}, nil, fmt.Errorf("%w: every worksheet is hidden (%s); name one with --sheet", ErrNoSheet, strings.Join(hidden, ", "))
		}
		return sheetEntry{}, nil, fmt.Errorf("%w: the workbook has no worksheet", ErrNoHeader)
	}
	var note []string
	if len(hidden) > 0 {
		note = append(note, "hidden sheets skipped: "+strings.Join(hidden, ", "))
	}
	if len(visible) > 1 {
		note = append(note, "other sheets: "+strings.Join(visible[1:], ", ")+" (choose one with --sheet)")
	}
	if len(note) == 0 {
		return *pick, nil, nil
	}
	return *pick, []string{fmt.Sprintf("using sheet %q; %s", pick.name, strings.Join(note, "; "))}, nil
}

func kindName(kind string) string {
	switch kind {
	case "chartsheet":
		return "chart sheet"
	case "dialogsheet":
		return "dialog sheet"
	case "":
		return "sheet with no content"
	}
	return kind
}

// sheetList names the workbook's sheets for a message.
func (p *xlsxPackage) sheetList() string {
	if len(p.sheets) == 0 {
		return "none"
	}
	var b strings.Builder
	for i, s := range p.sheets {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", s.name)
		switch {
		case s.kind != "worksheet":
			b.WriteString(" (" + kindName(s.kind) + ")")
		case s.hidden:
			b.WriteString(" (hidden)")
		}
	}
	return b.String()
}

// relPart returns the part of the workbook's first relationship of type
// typ, or def.
func (p *xlsxPackage) relPart(typ, def string) string {
	for _, r := range p.wbRels {
		if r.typ == typ {
			return r.target
		}
	}
	return def
}

// openStream opens a part to be read as a stream, counted against
// maxStreamPart and maxTagGap.
func (p *xlsxPackage) openStream(name string) (io.ReadCloser, error) {
	rc, err := p.openPart(name)
	if err != nil {
		return nil, err
	}
	return &guardReader{rc: rc, name: name, limit: maxStreamPart, gap: maxTagGap}, nil
}

func (p *xlsxPackage) Close() error {
	var err error
	if p.sst != nil {
		err = p.sst.Close()
	}
	if p.file != nil {
		if cerr := p.file.Close(); err == nil {
			err = cerr
		}
		p.file = nil
	}
	return err
}

// guardReader counts a part's unpacked bytes and the bytes between tags,
// and turns read errors into ErrCorrupt.
type guardReader struct {
	rc    io.ReadCloser
	name  string
	n     int64 // bytes read
	limit int64
	gap   int64 // the most bytes allowed without a '<'
	since int64 // bytes since the last '<'
}

func (g *guardReader) Read(b []byte) (int, error) {
	n, err := g.rc.Read(b)
	g.n += int64(n)
	long := false
	for rest := b[:n]; ; {
		i := bytes.IndexByte(rest, '<')
		if i < 0 {
			g.since += int64(len(rest))
			long = long || g.since > g.gap
			break
		}
		long = long || g.since+int64(i) > g.gap
		g.since = 0
		rest = rest[i+1:]
	}
	switch {
	case g.n > g.limit:
		return n, fmt.Errorf("%w: part %s is larger than %d GiB unpacked; refusing it (a zip bomb?)", ErrCorrupt, g.name, g.limit>>30)
	case long:
		return n, fmt.Errorf("%w: part %s holds more than %d MiB of text without markup; no cell is that large", ErrCorrupt, g.name, g.gap>>20)
	case err != nil && err != io.EOF:
		return n, xlsxCorrupt(g.name, err)
	}
	return n, err
}

func (g *guardReader) Close() error { return g.rc.Close() }

// newPartDecoder returns an XML decoder over a streamed part.
func newPartDecoder(r io.Reader) *xml.Decoder {
	d := xml.NewDecoder(bufio.NewReaderSize(r, 64<<10))
	d.CharsetReader = func(label string, _ io.Reader) (io.Reader, error) {
		return nil, fmt.Errorf("%w: a part is in the %s encoding; %s", ErrCorrupt, label, xlsxSaveAs)
	}
	return d
}
