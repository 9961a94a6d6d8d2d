package reports_test

import (
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/srimport/srimport/input/inputtest"
	"github.com/srimport/srimport/reports"
)

// benchRecords returns n records of generated ticket rows, as an import
// of them would report them.
func benchRecords(n int) []reports.Record {
	g := inputtest.New(1)
	recs := make([]reports.Record, n)
	for i := range recs {
		recs[i] = reports.Record{Row: i + 2, Status: reports.Created, ServiceRequestID: strconv.Itoa(616000000000001 + i),
			Attempts: 1, RequestID: "0f8fad5b-d9cb-469f-a165-70867728950e", Input: g.Row()}
		if i%10 == 0 {
			recs[i].Status, recs[i].ServiceRequestID, recs[i].ErrorClass = reports.Failed, "", "rejected"
			recs[i].Error = "create service request: HTTP 400 (code 3000): The value of property 'supportTopicId' is not valid"
		}
	}
	return recs
}

// writeReport writes recs with a writer of format f to io.Discard.
func writeReport(b *testing.B, f reports.Format, recs []reports.Record) {
	var w reports.Writer
	var err error
	switch f {
	case reports.XLSX:
		w, err = reports.NewXLSX(io.Discard, inputtest.Header)
	case reports.JSONL:
		w = reports.NewJSONL(io.Discard, inputtest.Header)
	default:
		w, err = reports.NewCSV(io.Discard, inputtest.Header)
	}
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkReportFormats writes the report of 20 000 generated rows in
// each format, in alternating blocks so that a shift in the machine's
// load touches all alike, and reports each format's time per record
// and the XLSX and JSON Lines reports' times over the CSV report's.
func BenchmarkReportFormats(b *testing.B) {
	recs := benchRecords(20000)
	formats := []reports.Format{reports.CSV, reports.JSONL, reports.XLSX}
	var ns [3]float64
	for b.Loop() {
		for i, f := range formats {
			start := time.Now()
			writeReport(b, f, recs)
			ns[i] += float64(time.Since(start))
		}
	}
	per := float64(b.N * len(recs))
	b.ReportMetric(ns[0]/per, "csv-ns/record")
	b.ReportMetric(ns[1]/per, "jsonl-ns/record")
	b.ReportMetric(ns[2]/per, "xlsx-ns/record")
	b.ReportMetric(ns[1]/ns[0], "jsonl/csv")
	b.ReportMetric(ns[2]/ns[0], "xlsx/csv")
}
