module github.com/aftersales/aftersales

go 1.26
