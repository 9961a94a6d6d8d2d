package importer

import (
	"encoding/json"
	"strconv"

	"github.com/google/uuid"

	"github.com/srimport/srimport/mapping"
)

// requestIDSpace is the UUID namespace of srimport's request ids.
var requestIDSpace = uuid.MustParse("5a1e0c4e-7d0b-4f53-9e0e-3c2b8a6f1d27")

// RequestID derives a row's MS-RequestId from the row number, the agent
// locale and the request body (a name-based UUID, version 5). Importing the
// same file again therefore repeats each row's id, and a service that
// de-duplicates on MS-RequestId answers with the request it created the
// first time instead of creating another; a row whose content changed gets
// a new id.
func RequestID(req *mapping.Request) string {
	body, err := json.Marshal(&req.SR)
	if err != nil {
		// The wire types always marshal; fall back to a random id rather
		// than a shared one.
		return uuid.NewString()
	}
	key := make([]byte, 0, len(body)+len(req.Locale)+16)
	key = strconv.AppendInt(key, int64(req.Row), 10)
	key = append(key, 0)
	key = append(key, req.Locale...)
	key = append(key, 0)
	key = append(key, body...)
	return uuid.NewSHA1(requestIDSpace, key).String()
}
