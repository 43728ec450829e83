module github.com/wa-flows-crypto/wa-flows-crypto/bindings/go

go 1.19
