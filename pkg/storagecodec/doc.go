// Package storagecodec is the codec between stored values and objects: it writes the configured
// storage media type and reads every format the server has stored. Protobuf is written with a
// schema marker in its envelope (FieldsMarker); protobuf values without it carry the field
// numbers this server used before it took Gardener's and are renumbered first (legacy.go).
// Codec.Stale tells the values in another form than it writes (the earlier numbering included),
// so the background rewrite can convert them; the encryption layer only encrypts and decrypts.
package storagecodec
