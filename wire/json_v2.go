//go:build goexperiment.jsonv2

package wire

// invalidUTF8 is what encoding/json writes for each byte of invalid UTF-8
// in a string: built on encoding/json/v2 (GOEXPERIMENT=jsonv2), the
// replacement character itself, unescaped.
const invalidUTF8 = "\ufffd"
