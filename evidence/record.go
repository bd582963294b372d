package evidence

import (
	"encoding/json"
	"fmt"
	"time"
)

// Record is one piece of evidence: a state transition, a policy decision,
// an approval, a verification result. Seq is its index in the log's Merkle
// tree; ID is stable and unique.
type Record struct {
	Seq           uint64          `json:"seq"`
	ID            string          `json:"id"`
	Time          time.Time       `json:"time"`
	Type          string          `json:"type"`
	ActionID      string          `json:"action_id,omitempty"`
	CorrelationID string          `json:"correlation_id,omitempty"`
	Subject       string          `json:"subject,omitempty"`
	Data          json.RawMessage `json:"data,omitempty"`
}

// control is the body of header, commit and seal frames.
type control struct {
	Seq     uint64    `json:"seq"`
	Segment int       `json:"segment,omitempty"`
	Origin  string    `json:"origin,omitempty"`
	Time    time.Time `json:"time,omitzero"`
	Sig     []byte    `json:"sig,omitempty"`
}

// Receipt acknowledges a durable record.
type Receipt struct {
	ID   string
	Seq  uint64
	Hash [32]byte
}

// Position locates a frame: segment number and byte offset.
type Position struct {
	Segment int   `json:"segment"`
	Offset  int64 `json:"offset"`
}

// Entry is a frame read back from the log.
type Entry struct {
	Seq      uint64
	Kind     byte
	Pos      Position
	Size     int
	Hash     [32]byte
	Record   *Record // for KindRecord
	Segment  int     // for header and seal frames
	Body     []byte
	Unsigned bool
}

func decodeRecord(body []byte) (*Record, error) {
	var r Record
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("record body: %w", err)
	}
	return &r, nil
}
