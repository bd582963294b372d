package canon

import (
	"encoding/hex"

	"github.com/zeebo/blake3"
)

// Sum256 is BLAKE3-256 of data.
func Sum256(data []byte) [32]byte {
	return blake3.Sum256(data)
}

// HashHex returns hex(BLAKE3(data)).
func HashHex(data []byte) string {
	s := blake3.Sum256(data)
	return hex.EncodeToString(s[:])
}

// HashJSON returns hex(BLAKE3(JCS(v))), the identity of a request.
func HashJSON(v any) (string, error) {
	b, err := Marshal(v)
	if err != nil {
		return "", err
	}
	return HashHex(b), nil
}
