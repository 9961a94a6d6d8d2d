package editdist

import "testing"

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"workers", "workers", 0},
		{"Workers", "workers", 0},
		{"wokers", "workers", 1},
		{"workres", "workers", 2},
		{"", "rate", 4},
		{"rate", "", 4},
		{"kitten", "sitting", 3},
		{"Überprüfung", "uberprufung", 2},
	} {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := Distance(c.b, c.a); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (not symmetric)", c.b, c.a, got, c.want)
		}
	}
}
