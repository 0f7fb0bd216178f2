data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id

  lambda_zip_path = coalesce(var.lambda_zip_path, "${path.module}/dist/lambda.zip")
  log_group_name  = "/aws/lambda/${var.name}"

  # Reports are written only when a bucket is created here or named.
  reports_enabled    = var.create_report_bucket || var.report_bucket_name != null
  report_bucket_name = var.create_report_bucket ? aws_s3_bucket.reports[0].id : var.report_bucket_name
  # S3 bucket names are lower-case; bucket_prefix allows at most 37 characters.
  report_bucket_prefix = "${substr(replace(lower(var.name), "_", "-"), 0, 28)}-reports-"

  # An unset BENCH_API_URL means the bundled sample ledger.
  environment = merge(
    var.environment_variables,
    {
      BENCH_CONCURRENCY = tostring(var.fetch_concurrency)
      BENCH_TIMEOUT     = tostring(var.fetch_timeout)
      BENCH_RETRIES     = tostring(var.fetch_retries)
    },
    var.api_url == "" ? {} : { BENCH_API_URL = var.api_url },
    local.reports_enabled ? {
      REPORT_BUCKET = local.report_bucket_name
      REPORT_PREFIX = var.report_prefix
    } : {},
  )

  schedule_group_arn = "arn:${local.partition}:scheduler:${local.region}:${local.account_id}:schedule-group/${var.name}"
}

################################################################################
# Function
################################################################################

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:The function only calls the public ledger API and S3; a VPC would add a NAT gateway and reach nothing private.
  #checkov:skip=CKV_AWS_272:Code signing is not part of this pipeline; the package is built by ./build.sh and deployed by Terraform with source_code_hash.
  #checkov:skip=CKV_AWS_116:Failed asynchronous runs go to the SQS queue through aws_lambda_function_event_invoke_config on_failure, which supersedes dead_letter_config.
  #checkov:skip=CKV_AWS_173:The variables hold no secrets (URL, bucket, fetch settings); Lambda encrypts them at rest with its AWS managed key.
  #checkov:skip=CKV_AWS_50:X-Ray needs xray:Put* on "*"; one short daily run is observed through JSON logs, the Errors alarm and the failure queue.
  function_name = var.name
  description   = "Fetches every page of the ledger API and reports balances (benchtest)."
  role          = aws_iam_role.lambda.arn

  runtime       = var.runtime
  handler       = "handler.handler"
  architectures = [var.architecture]

  filename         = local.lambda_zip_path
  source_code_hash = filebase64sha256(local.lambda_zip_path)

  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrent_executions

  environment {
    variables = local.environment
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.lambda.name
    application_log_level = var.application_log_level
    system_log_level      = var.system_log_level
  }

  # The role must be able to write logs before the first run.
  depends_on = [aws_iam_role_policy.lambda]
}

resource "aws_cloudwatch_log_group" "lambda" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts log data at rest; a customer managed key would add key-policy upkeep without narrowing who can read (IAM does that).
  name              = local.log_group_name
  retention_in_days = var.log_retention_in_days
}

# Scheduled runs are asynchronous invocations: Lambda retries them, then hands the event
# to the failure queue so a failed run is never lost silently.
resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = var.maximum_retry_attempts
  maximum_event_age_in_seconds = var.maximum_event_age_in_seconds

  destination_config {
    on_failure {
      destination = aws_sqs_queue.dlq.arn
    }
  }

  # Lambda checks that the execution role may send to the destination.
  depends_on = [aws_iam_role_policy.lambda]
}

################################################################################
# Function role: its own log group, the failure queue, and the report prefix
################################################################################

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "lambda" {
  name               = "${var.name}-lambda"
  description        = "Execution role of the ${var.name} function."
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

data "aws_iam_policy_document" "lambda" {
  # The log group is created by Terraform, so no logs:CreateLogGroup; ":*" covers its streams.
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda.arn}:*"]
  }

  # Lambda sends the failed asynchronous event to the on-failure destination as this role.
  statement {
    sid       = "SendFailedRuns"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dlq.arn]
  }

  dynamic "statement" {
    for_each = local.reports_enabled ? [1] : []

    content {
      sid       = "WriteReports"
      actions   = ["s3:PutObject"]
      resources = ["arn:${local.partition}:s3:::${local.report_bucket_name}/${var.report_prefix}/*"]
    }
  }
}

resource "aws_iam_role_policy" "lambda" {
  name   = "${var.name}-lambda"
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.lambda.json
}

################################################################################
# Failure queue: scheduler dead letters and Lambda on-failure destination
################################################################################

resource "aws_sqs_queue" "dlq" {
  name                      = "${var.name}-failed-runs"
  message_retention_seconds = var.dlq_message_retention_seconds
  sqs_managed_sse_enabled   = true
}

################################################################################
# Schedule
################################################################################

resource "aws_scheduler_schedule_group" "this" {
  name = var.name
}

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }

    # Only schedules of this account's group may use the role (confused-deputy guard).
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [local.schedule_group_arn]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${var.name}-scheduler"
  description        = "Lets EventBridge Scheduler invoke the ${var.name} function."
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "InvokeFunction"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.this.arn]
  }

  # EventBridge Scheduler delivers dead letters as the execution role.
  statement {
    sid       = "SendDeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dlq.arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "${var.name}-scheduler"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

resource "aws_scheduler_schedule" "this" {
  #checkov:skip=CKV_AWS_297:The schedule's only payload is the scheduled time; the AWS owned key is enough for it.
  name        = var.name
  group_name  = aws_scheduler_schedule_group.this.name
  description = "Runs ${var.name} on ${var.schedule_expression} (${var.schedule_timezone})."

  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = var.schedule_timezone
  state                        = var.schedule_enabled ? "ENABLED" : "DISABLED"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.this.arn
    role_arn = aws_iam_role.scheduler.arn

    # Tells the handler which run this is (the scheduled, not the actual, time).
    input = jsonencode({ scheduled_time = "<aws.scheduler.scheduled-time>" })

    retry_policy {
      maximum_retry_attempts       = var.schedule_maximum_retry_attempts
      maximum_event_age_in_seconds = var.schedule_maximum_event_age_in_seconds
    }

    dead_letter_config {
      arn = aws_sqs_queue.dlq.arn
    }
  }

  depends_on = [aws_iam_role_policy.scheduler]
}

################################################################################
# Alarms
################################################################################

resource "aws_sns_topic" "alarms" {
  #checkov:skip=CKV_AWS_26:CloudWatch alarms cannot publish to a topic encrypted with the AWS managed SNS key, and the messages hold only alarm state.
  name = "${var.name}-alarms"
}

resource "aws_sns_topic_subscription" "alarm_email" {
  count = var.alarm_email == null ? 0 : 1

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name        = "${var.name}-errors"
  alarm_description = "The ${var.name} function failed (any error in the period)."

  namespace   = "AWS/Lambda"
  metric_name = "Errors"
  dimensions = {
    FunctionName = aws_lambda_function.this.function_name
  }

  statistic           = "Sum"
  period              = var.alarm_period
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"

  alarm_actions = [aws_sns_topic.alarms.arn]
  ok_actions    = [aws_sns_topic.alarms.arn]
}

# A message here is a run that failed for good (after all retries).
resource "aws_cloudwatch_metric_alarm" "failed_runs" {
  alarm_name        = "${var.name}-failed-runs"
  alarm_description = "A ${var.name} run failed after all retries and waits in the ${aws_sqs_queue.dlq.name} queue."

  namespace   = "AWS/SQS"
  metric_name = "ApproximateNumberOfMessagesVisible"
  dimensions = {
    QueueName = aws_sqs_queue.dlq.name
  }

  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"

  alarm_actions = [aws_sns_topic.alarms.arn]
  ok_actions    = [aws_sns_topic.alarms.arn]
}

################################################################################
# Report bucket (optional)
################################################################################

resource "aws_s3_bucket" "reports" {
  #checkov:skip=CKV_AWS_18:Server access logging needs a separate log bucket; reads and writes are auditable with CloudTrail data events instead.
  #checkov:skip=CKV_AWS_144:Reports are regenerated from the ledger API on every run; versioning covers overwrites, so cross-region replication is not worth a second bucket.
  #checkov:skip=CKV2_AWS_62:No consumer needs notifications of new reports.
  count = var.create_report_bucket ? 1 : 0

  bucket        = var.report_bucket_name
  bucket_prefix = var.report_bucket_name == null ? local.report_bucket_prefix : null
  force_destroy = var.report_bucket_force_destroy
}

resource "aws_s3_bucket_public_access_block" "reports" {
  count = var.create_report_bucket ? 1 : 0

  bucket                  = aws_s3_bucket.reports[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "reports" {
  count = var.create_report_bucket ? 1 : 0

  bucket = aws_s3_bucket.reports[0].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "reports" {
  count = var.create_report_bucket ? 1 : 0

  bucket = aws_s3_bucket.reports[0].id

  # SSE-KMS with the AWS managed aws/s3 key: usable by the function's role without key grants.
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "reports" {
  count = var.create_report_bucket ? 1 : 0

  bucket = aws_s3_bucket.reports[0].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "reports" {
  count = var.create_report_bucket ? 1 : 0

  bucket = aws_s3_bucket.reports[0].id

  rule {
    id     = "reports"
    status = "Enabled"

    filter {
      prefix = ""
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }

    noncurrent_version_expiration {
      noncurrent_days = var.report_noncurrent_version_expiration_days
    }

    dynamic "expiration" {
      for_each = var.report_expiration_days == null ? [] : [var.report_expiration_days]

      content {
        days = expiration.value
      }
    }
  }

  # Lifecycle rules on noncurrent versions need versioning in place first.
  depends_on = [aws_s3_bucket_versioning.reports]
}

data "aws_iam_policy_document" "reports_bucket" {
  count = var.create_report_bucket ? 1 : 0

  # A guardrail, not a grant: refuse every request that does not use TLS.
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.reports[0].arn,
      "${aws_s3_bucket.reports[0].arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "reports" {
  count = var.create_report_bucket ? 1 : 0

  bucket = aws_s3_bucket.reports[0].id
  policy = data.aws_iam_policy_document.reports_bucket[0].json

  # S3 rejects policies while the public access block is being applied.
  depends_on = [aws_s3_bucket_public_access_block.reports]
}
