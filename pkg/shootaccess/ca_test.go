package shootaccess

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestTransientErrorsKeepTheirCode(t *testing.T) {
	assert.True(t, transient(apierrors.NewServiceUnavailable("etcd down")))
	assert.True(t, transient(apierrors.NewTimeoutError("slow", 1)))
	assert.True(t, transient(apierrors.NewTooManyRequests("busy", 1)))
	assert.False(t, transient(apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, "x", errors.New("no"))))
	assert.False(t, transient(nil))
}
