package objfs

// migrations is the store's schema; migrations[i] moves version i to i+1.
var migrations = []string{`
CREATE TABLE objects (
	id         INTEGER PRIMARY KEY,
	path       TEXT NOT NULL UNIQUE,
	current    INTEGER REFERENCES versions(id),
	created_at INTEGER NOT NULL,
	-- what the file looked like when last read, to skip unchanged files
	seen_size  INTEGER NOT NULL DEFAULT -1,
	seen_mtime INTEGER NOT NULL DEFAULT 0,
	seen_ino   INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE versions (
	id         INTEGER PRIMARY KEY,
	vid        TEXT NOT NULL UNIQUE,
	object_id  INTEGER NOT NULL REFERENCES objects(id),
	seq        INTEGER NOT NULL,
	parent     INTEGER REFERENCES versions(id),
	hash       TEXT NOT NULL,
	size       INTEGER NOT NULL,
	mode       INTEGER NOT NULL,
	mtime      INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	origin     TEXT NOT NULL,
	deleted    INTEGER NOT NULL DEFAULT 0,
	UNIQUE (object_id, seq)
);
CREATE TABLE chunks (
	id   INTEGER PRIMARY KEY,
	hash BLOB NOT NULL UNIQUE,
	pack INTEGER NOT NULL,
	off  INTEGER NOT NULL,
	len  INTEGER NOT NULL
);
CREATE INDEX chunks_pack_off ON chunks(pack, off);
CREATE TABLE version_chunks (
	version_id INTEGER NOT NULL REFERENCES versions(id),
	idx        INTEGER NOT NULL,
	chunk_id   INTEGER NOT NULL REFERENCES chunks(id),
	off        INTEGER NOT NULL,
	PRIMARY KEY (version_id, idx)
) WITHOUT ROWID;
CREATE INDEX version_chunks_chunk ON version_chunks(chunk_id);
CREATE TABLE pointers (
	object_id  INTEGER NOT NULL REFERENCES objects(id),
	name       TEXT NOT NULL,
	version_id INTEGER NOT NULL REFERENCES versions(id),
	created_at INTEGER NOT NULL,
	PRIMARY KEY (object_id, name)
) WITHOUT ROWID;
CREATE TABLE tags (
	object_id INTEGER NOT NULL REFERENCES objects(id),
	tag       TEXT NOT NULL,
	source    TEXT NOT NULL CHECK (source IN ('user', 'auto')),
	PRIMARY KEY (object_id, tag)
) WITHOUT ROWID;
CREATE INDEX tags_tag ON tags(tag);
CREATE TABLE roots (
	path     TEXT PRIMARY KEY,
	added_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE skipped (
	path   TEXT PRIMARY KEY,
	reason TEXT NOT NULL,
	size   INTEGER NOT NULL,
	mtime  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE terms (
	id   INTEGER PRIMARY KEY,
	term TEXT NOT NULL UNIQUE
);
CREATE TABLE docs (
	object_id  INTEGER PRIMARY KEY REFERENCES objects(id),
	version_id INTEGER NOT NULL REFERENCES versions(id),
	kind       TEXT NOT NULL,
	len        INTEGER NOT NULL,
	terms      BLOB NOT NULL,
	-- NULL when the text is the version's own content
	text       BLOB,
	lsi        BLOB,
	emb        BLOB,
	mtime      INTEGER NOT NULL
);
CREATE TABLE lsi_terms (
	term_id INTEGER PRIMARY KEY,
	idf     REAL NOT NULL,
	vec     BLOB NOT NULL
);
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value
) WITHOUT ROWID;
INSERT INTO meta(key, value) VALUES ('store_id', lower(hex(randomblob(8))));
`}
