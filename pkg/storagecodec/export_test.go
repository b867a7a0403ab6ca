package storagecodec

// Exported for the tests of package storagecodec_test.
var (
	FromLegacy = fromLegacy
	Mark       = mark
)
