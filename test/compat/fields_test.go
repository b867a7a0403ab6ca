package compat

import (
	"reflect"
	"slices"
	"strings"
)

// API types of either side are walked field by field; every other struct (metav1.ObjectMeta,
// metav1.Time, ...) is one apimachinery type both sides share, so it counts as one leaf.
func isAPIStruct(t reflect.Type) bool {
	return t.Kind() == reflect.Struct &&
		(strings.HasPrefix(t.PkgPath(), "github.com/garden-apiserver/") || strings.HasPrefix(t.PkgPath(), "github.com/gardener/gardener/"))
}

// ownField finds the field named name declared by t itself (not promoted from an embedded struct).
func ownField(t reflect.Type, name string) (reflect.StructField, bool) {
	f, ok := t.FieldByName(name)
	if !ok || len(f.Index) != 1 {
		return reflect.StructField{}, false
	}
	return f, true
}

// project copies src into a new value of type dst field by field, matching fields by Go name and
// dropping what dst lacks: Gardener's object seen through our types, or ours through Gardener's.
// It never goes through an encoding, so it is the reference the wire round trips are checked against.
func project(src reflect.Value, dst reflect.Type) reflect.Value {
	if src.Type() == dst {
		return src
	}
	out := reflect.New(dst).Elem()
	switch dst.Kind() {
	case reflect.Pointer:
		if !src.IsNil() {
			p := reflect.New(dst.Elem())
			p.Elem().Set(project(src.Elem(), dst.Elem()))
			out.Set(p)
		}
	case reflect.Struct:
		for i := range dst.NumField() {
			f := dst.Field(i)
			if sf, ok := ownField(src.Type(), f.Name); ok {
				out.Field(i).Set(project(src.Field(sf.Index[0]), f.Type))
			}
		}
	case reflect.Slice:
		if !src.IsNil() {
			s := reflect.MakeSlice(dst, src.Len(), src.Len())
			for i := range src.Len() {
				s.Index(i).Set(project(src.Index(i), dst.Elem()))
			}
			out.Set(s)
		}
	case reflect.Map:
		if !src.IsNil() {
			m := reflect.MakeMapWithSize(dst, src.Len())
			for it := src.MapRange(); it.Next(); {
				m.SetMapIndex(project(it.Key(), dst.Key()), project(it.Value(), dst.Elem()))
			}
			out.Set(m)
		}
	default:
		out.Set(src.Convert(dst))
	}
	return out
}

// leafPaths lists every leaf field of t ("Spec.Kubernetes.Version", "Items[].Data{}", ...).
// TypeMeta is left out: it is set by the encoder, not by the user.
func leafPaths(t reflect.Type) []string {
	var out []string
	var walk func(t reflect.Type, path string)
	walk = func(t reflect.Type, path string) {
		switch {
		case t.Kind() == reflect.Pointer:
			walk(t.Elem(), path)
		case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8:
			walk(t.Elem(), path+"[]")
		case t.Kind() == reflect.Map:
			walk(t.Elem(), path+"{}")
		case isAPIStruct(t):
			for i := range t.NumField() {
				if f := t.Field(i); f.Name != "TypeMeta" {
					walk(f.Type, join(path, f.Name))
				}
			}
		default:
			out = append(out, path)
		}
	}
	walk(t, "")
	slices.Sort(out)
	return out
}

// setLeaves records in seen the leaf paths of v that hold a non-zero value.
func setLeaves(v reflect.Value, seen map[string]bool) {
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		t := v.Type()
		switch {
		case t.Kind() == reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem(), path)
			}
		case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8:
			for i := range v.Len() {
				walk(v.Index(i), path+"[]")
			}
		case t.Kind() == reflect.Map:
			for it := v.MapRange(); it.Next(); {
				walk(it.Value(), path+"{}")
			}
		case isAPIStruct(t):
			for i := range t.NumField() {
				if f := t.Field(i); f.Name != "TypeMeta" {
					walk(v.Field(i), join(path, f.Name))
				}
			}
		default:
			if !v.IsZero() {
				seen[path] = true
			}
		}
	}
	walk(v, "")
}

// unset returns the leaf paths of t that seen never recorded.
func unset(t reflect.Type, seen map[string]bool) []string {
	var out []string
	for _, p := range leafPaths(t) {
		if !seen[p] {
			out = append(out, p)
		}
	}
	return out
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
