//go:build !goexperiment.jsonv2

package wire

// invalidUTF8 is what encoding/json writes for each byte of invalid UTF-8
// in a string: built on its original encoder, the escape \ufffd.
const invalidUTF8 = `\ufffd`
