// Package storagecodec is the codec between stored values and objects. It writes the protobuf
// envelope with a schema marker (FieldsMarker) and reads protobuf values without it, which
// carry the field numbers this server used before it took Gardener's, by renumbering them
// first (legacy.go). StoredMediaType names the format of a stored value, so the background
// rewrite can convert values in another format, the old numbering included.
package storagecodec
