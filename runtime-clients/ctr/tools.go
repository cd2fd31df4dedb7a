//go:build tools

// Package tools pins ctr for the image's runtime clients (see ../README.md).
package tools

import _ "github.com/containerd/containerd/v2/cmd/ctr"
