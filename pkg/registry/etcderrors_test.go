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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/storage"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
	"github.com/garden-apiserver/garden-apiserver/pkg/encryption"
)

func TestMapEtcdError(t *testing.T) {
	notFound := apierrors.NewNotFound(schema.GroupResource{Resource: "shoots"}, "x")
	other := errors.New("something else")
	internal := apierrors.NewInternalError(errors.New("something broke"))
	managed := &core.InternalSecret{ObjectMeta: metav1.ObjectMeta{ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}}}
	clientLimit := status.Error(codes.ResourceExhausted, "trying to send message larger than max")
	for _, tc := range []struct {
		name       string
		err        error
		code       int32
		retryAfter int32
		same       error
		obj        runtime.Object
	}{
		{name: "nil"},
		{name: "too large", err: rpctypes.ErrRequestTooLarge, code: http.StatusRequestEntityTooLarge},
		{name: "too large, wrapped", err: fmt.Errorf("txn: %w", rpctypes.ErrRequestTooLarge), code: http.StatusRequestEntityTooLarge},
		{name: "too large with managedFields: the library retries without them", err: rpctypes.ErrRequestTooLarge,
			obj: managed, same: rpctypes.ErrRequestTooLarge},
		{name: "too large without managedFields", err: rpctypes.ErrRequestTooLarge, obj: &core.InternalSecret{},
			code: http.StatusRequestEntityTooLarge},
		{name: "client message limit with managedFields", err: clientLimit, obj: managed, same: clientLimit},
		{name: "client message limit", err: clientLimit, code: http.StatusRequestEntityTooLarge},
		{name: "another invalid argument passes", err: rpctypes.ErrEmptyKey, same: rpctypes.ErrEmptyKey},
		{name: "connection reset", err: status.Error(codes.Unavailable, "connection reset by peer"), code: http.StatusServiceUnavailable, retryAfter: 1},
		{name: "request timed out", err: rpctypes.ErrTimeout, code: http.StatusServiceUnavailable, retryAfter: 1},
		{name: "leader lost", err: rpctypes.ErrTimeoutDueToLeaderFail, code: http.StatusServiceUnavailable, retryAfter: 1},
		{name: "deadline", err: status.Error(codes.DeadlineExceeded, "context deadline exceeded"), code: http.StatusGatewayTimeout, retryAfter: 1},
		{name: "encryption provider timed out: nothing written, 503 not 504", err: storage.NewInternalError(
			fmt.Errorf("encrypting: %w: %w", encryption.ErrNotEncrypted, status.Error(codes.DeadlineExceeded, "kms"))),
			code: http.StatusServiceUnavailable, retryAfter: 1},
		{name: "encryption provider failed, as the library's 500", err: apierrors.NewInternalError(storage.NewInternalError(
			fmt.Errorf("encrypting: %w: %w", encryption.ErrNotEncrypted, errors.New("expired")))),
			code: http.StatusServiceUnavailable, retryAfter: 1},
		{name: "another 500 passes", err: internal, same: internal},
		{name: "already a status", err: notFound, same: notFound},
		{name: "unknown error passes", err: other, same: other},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mapEtcdError(tc.err, tc.obj)
			switch {
			case tc.err == nil:
				assert.NoError(t, got)
			case tc.same != nil:
				assert.True(t, tc.same == got, "passed unchanged, got %T %v", got, got) //nolint:errorlint // identity is the point
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
