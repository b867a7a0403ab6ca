// Package registry holds what the resource registries share.
package registry

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metatable "k8s.io/apimachinery/pkg/api/meta/table"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"
)

// TableConvertor prints objects as kubectl tables: NAME, the given columns, then AGE.
type TableConvertor struct {
	Columns []metav1.TableColumnDefinition
	// Cells returns the cells between NAME and AGE for one object.
	Cells func(obj runtime.Object) ([]interface{}, error)
}

var _ rest.TableConvertor = TableConvertor{}

var (
	nameColumn = metav1.TableColumnDefinition{Name: "Name", Type: "string", Format: "name",
		Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]}
	ageColumn = metav1.TableColumnDefinition{Name: "Age", Type: "date",
		Description: metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]}
)

// ConvertToTable implements rest.TableConvertor for single objects and lists.
func (c TableConvertor) ConvertToTable(_ context.Context, obj runtime.Object, opts runtime.Object) (*metav1.Table, error) {
	table := &metav1.Table{}
	if m, err := meta.ListAccessor(obj); err == nil {
		table.ResourceVersion = m.GetResourceVersion()
		table.Continue = m.GetContinue()
		table.RemainingItemCount = m.GetRemainingItemCount()
	} else if m, err := meta.CommonAccessor(obj); err == nil {
		table.ResourceVersion = m.GetResourceVersion()
	}
	if o, ok := opts.(*metav1.TableOptions); !ok || !o.NoHeaders {
		table.ColumnDefinitions = append(append([]metav1.TableColumnDefinition{nameColumn}, c.Columns...), ageColumn)
	}
	var err error
	table.Rows, err = metatable.MetaToTableRow(obj, func(o runtime.Object, m metav1.Object, name, age string) ([]interface{}, error) {
		cells, err := c.Cells(o)
		if err != nil {
			return nil, err
		}
		return append(append([]interface{}{name}, cells...), age), nil
	})
	if err != nil {
		return nil, fmt.Errorf("printing table: %w", err)
	}
	return table, nil
}
