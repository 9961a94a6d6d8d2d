package emulator

import (
	"net"
	"net/http"
	"strconv"
	"time"
)

// faultKind is the fault drawn for one create request.
type faultKind int

const (
	faultNone faultKind = iota
	faultError500Before
	faultResetBefore
	faultResetAfter
	faultError500After
	faultTruncated201
	faultStall
)

// drawFault draws every fault of Config.Faults independently and returns
// the first that fired, in Faults' field order. All six numbers are drawn
// on every call, so a seed yields one sequence whatever fires.
func (e *Emulator) drawFault() faultKind {
	p := e.cfg.Faults
	if !p.any() {
		return faultNone
	}
	var u [6]float64
	e.rngMu.Lock()
	for i := range u {
		u[i] = e.rng.Float64()
	}
	e.rngMu.Unlock()
	for i, prob := range [6]float64{p.Error500Before, p.ResetBefore, p.ResetAfter, p.Error500After, p.Truncated201, p.Stall} {
		if u[i] < prob {
			return faultKind(i + 1)
		}
	}
	return faultNone
}

// hangUp drops the connection without an answer: with a TCP reset when
// reset is set, else with an orderly close. Handlers that cannot hijack
// (HTTP/2, recorders) abort with http.ErrAbortHandler instead.
func hangUp(c *call, reset bool) {
	conn, _, err := http.NewResponseController(c.w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok && reset {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

// stall holds the request until StallFor passes, the client leaves or the
// emulator closes; then it hangs up without answering.
func (e *Emulator) stall(c *call) {
	t := time.NewTimer(e.cfg.StallFor)
	defer t.Stop()
	select {
	case <-c.r.Context().Done():
		return
	case <-t.C:
	case <-e.closing:
	}
	hangUp(c, false)
}

// truncated sends status with a Content-Length for the whole body (byte-
// order mark included when configured) but only its first half, then
// closes the connection: the client's read ends in an unexpected EOF.
func (e *Emulator) truncated(c *call, status int, body []byte) {
	full := body
	if e.cfg.BOM {
		full = append(append(make([]byte, 0, len(bom)+len(body)), bom...), body...)
	}
	c.w.Header()[hdrContentLength] = []string{strconv.Itoa(len(full))}
	c.w.WriteHeader(status)
	_, _ = c.w.Write(full[:len(full)/2])
	_ = http.NewResponseController(c.w).Flush()
	hangUp(c, false)
}
