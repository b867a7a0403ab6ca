package validation

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestValidateExpirationSeconds(t *testing.T) {
	assert.Empty(t, ValidateExpirationSeconds(600))
	assert.Empty(t, ValidateExpirationSeconds(math.MaxUint32))
	errs := ValidateExpirationSeconds(599)
	if assert.Len(t, errs, 1) {
		assert.Equal(t, "spec.expirationSeconds", errs[0].Field)
		assert.Contains(t, errs[0].Detail, "may not specify a duration less than 10 minutes")
	}
	assert.Len(t, ValidateExpirationSeconds(math.MaxUint32+1), 1)
	assert.Len(t, ValidateExpirationSeconds(-1), 1)
}
