# Run the packaged function locally in AWS's Lambda base image, which carries the Runtime
# Interface Emulator. The image holds exactly dist/lambda.zip, unpacked into /var/task.
# Build the zip for the machine Docker runs on (or let Docker emulate the other one):
#
#   ARCH=x86_64 ./build.sh && docker build --platform linux/amd64 -t benchtest-lambda .
#   ARCH=arm64  ./build.sh && docker build --platform linux/arm64 -t benchtest-lambda .
#   docker run --rm -p 9000:8080 benchtest-lambda
#   curl -s -d @events/scheduled.json \
#       http://localhost:9000/2015-03-31/functions/function/invocations
#
# With no BENCH_API_URL the function serves its bundled sample ledger to itself on 127.0.0.1.
# To write to S3 too: docker run -e REPORT_BUCKET=... -e AWS_REGION=... -e AWS_ACCESS_KEY_ID=...
# -e AWS_SECRET_ACCESS_KEY=... -e AWS_SESSION_TOKEN=... (the zip carries its own boto3).
FROM public.ecr.aws/lambda/python:3.12 AS unpack
COPY dist/lambda.zip /tmp/lambda.zip
RUN python3 -m zipfile -e /tmp/lambda.zip /tmp/task

FROM public.ecr.aws/lambda/python:3.12
COPY --from=unpack /tmp/task/ ${LAMBDA_TASK_ROOT}/
CMD ["handler.handler"]
