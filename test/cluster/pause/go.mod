module kic.local/pause

go 1.22
