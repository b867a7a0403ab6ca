package registry

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestMapEtcdError(t *testing.T) {
	notFound := apierrors.NewNotFound(schema.GroupResource{Resource: "shoots"}, "x")
	other := errors.New("something else")
	for _, tc := range []struct {
		name       string
		err        error
		code       int32
		retryAfter int32
		same       error
	}{
		{name: "nil"},
		{name: "too large", err: rpctypes.ErrRequestTooLarge, code: http.StatusRequestEntityTooLarge},
		{name: "too large, wrapped", err: fmt.Errorf("txn: %w", rpctypes.ErrRequestTooLarge), code: http.StatusRequestEntityTooLarge},
		{name: "connection reset", err: status.Error(codes.Unavailable, "connection reset by peer"), code: http.StatusServiceUnavailable, retryAfter: 1},
		{name: "request timed out", err: rpctypes.ErrTimeout, code: http.StatusGatewayTimeout, retryAfter: 1},
		{name: "leader lost", err: rpctypes.ErrTimeoutDueToLeaderFail, code: http.StatusGatewayTimeout, retryAfter: 1},
		{name: "deadline", err: status.Error(codes.DeadlineExceeded, "context deadline exceeded"), code: http.StatusGatewayTimeout, retryAfter: 1},
		{name: "already a status", err: notFound, same: notFound},
		{name: "unknown error passes", err: other, same: other},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mapEtcdError(tc.err)
			switch {
			case tc.err == nil:
				assert.NoError(t, got)
			case tc.same != nil:
				assert.Same(t, tc.same, got)
			default:
				var s apierrors.APIStatus
				if assert.True(t, errors.As(got, &s), "got %T %v", got, got) {
					assert.Equal(t, tc.code, s.Status().Code)
					if tc.retryAfter > 0 {
						assert.Equal(t, tc.retryAfter, s.Status().Details.RetryAfterSeconds)
					}
				}
			}
		})
	}
}
