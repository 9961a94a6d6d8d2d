package input

import "fmt"

// openXLSX opens an XLSX workbook.
func openXLSX(path string, opts Options) (Reader, error) {
	return nil, fmt.Errorf("%w: XLSX input is not supported yet; save the sheet as \"CSV UTF-8\" and import that", ErrUnsupported)
}
