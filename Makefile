# Developer entry points. The tests: bash scripts/test.sh (see README).
.PHONY: package test clean

# dist/smsverify.zip and its unpacked copy build/ (the directory serverless.yml deploys).
package:
	bash scripts/package.sh

test:
	bash scripts/test.sh

clean:
	rm -rf build dist
