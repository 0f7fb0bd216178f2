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
  # var.name is validated for this: lower case, at most 37 characters with the suffix.
  report_bucket_prefix = "${var.name}-reports-"
  # Every report key is under this ARN: run folders, manual/ and latest/.
  report_objects_arn = local.reports_enabled ? "arn:${local.partition}:s3:::${local.report_bucket_name}/${var.report_prefix}" : null

  # IAM names are global to the account: the region keeps two regions' deployments apart.
  lambda_role_name    = "${var.name}-${local.region}-lambda"
  scheduler_role_name = "${var.name}-${local.region}-scheduler"

  environment = merge(
    var.environment_variables,
    # Settings by sites.conf's names, as the function's environment spells them (settings.tf).
    { for name, value in var.settings : "BENCH_${upper(name)}" => value },
    {
      BENCH_CONCURRENCY = tostring(var.fetch_concurrency)
      BENCH_TIMEOUT     = tostring(var.fetch_timeout)
      BENCH_RETRIES     = tostring(var.fetch_retries)
      BENCH_API_URL     = var.api_url
    },
    local.reports_enabled ? {
      REPORT_BUCKET     = local.report_bucket_name
      REPORT_PREFIX     = var.report_prefix
      REPORT_KEEP_PAGES = tostring(var.keep_pages)
    } : {},
    var.report_kms_key_arn == null ? {} : { REPORT_KMS_KEY_ID = var.report_kms_key_arn },
    # "2013-12-20=18505.85,2013-12-22=18377.16": the form of the CLI flag and sites.conf.
    length(var.assert_balances) == 0 ? {} : {
      BENCH_ASSERT_BALANCE = join(",", [for day in sort(keys(var.assert_balances)) : "${day}=${var.assert_balances[day]}"])
    },
    # The parameter's name, never its value: the function reads it with its own role.
    var.auth_parameter_arn == null ? {} : {
      BENCH_AUTH_PARAMETER = var.auth_parameter_arn
      BENCH_AUTH_HEADER    = var.auth_header_name
    },
  )

  # What the function keeps back from its time for the end of a run (handler.RESERVE_SECONDS;
  # storage.S3_SECONDS with a bucket; auth.SSM_SECONDS with an auth parameter): a timeout at or
  # under it fails every run at its start. tests/test_terraform.py checks these are the code's.
  reserve_seconds = 5 + (local.reports_enabled ? 105 : 0) + (var.auth_parameter_arn == null ? 0 : 21)

  schedule_group_arn = "arn:${local.partition}:scheduler:${local.region}:${local.account_id}:schedule-group/${var.name}"
}

################################################################################
# Function
################################################################################

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:The function only calls the public ledger API and S3; a VPC would add a NAT gateway and reach nothing private.
  #checkov:skip=CKV_AWS_272:Code signing is not part of this pipeline; the package is built by ./build.sh and deployed by Terraform with source_code_hash.
  #checkov:skip=CKV_AWS_116:Failed asynchronous runs go to the SQS queue through aws_lambda_function_event_invoke_config on_failure, which supersedes dead_letter_config.
  #checkov:skip=CKV_AWS_173:The variables hold no secrets (URL, bucket, fetch settings, the auth parameter's ARN but not its value); Lambda encrypts them at rest with its AWS managed key.
  #checkov:skip=CKV_AWS_115:No reservation by default (reserved_concurrent_executions = null): a reservation fails on new accounts, whose unreserved pool may not drop below 10, and overlapping runs are harmless (a scheduled run's S3 keys are idempotent). Opt in with the variable.
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

  # The spool of pages for the duplicate check (benchtest/duplicates.py) lives in /tmp.
  ephemeral_storage {
    size = var.ephemeral_storage_size
  }

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

  lifecycle {
    precondition {
      condition     = length(setintersection(keys(var.environment_variables), [for name in keys(var.settings) : "BENCH_${upper(name)}"])) == 0
      error_message = "environment_variables and settings set the same setting: give it in settings only."
    }

    precondition {
      condition     = var.auth_kms_key_arn == null || var.auth_parameter_arn != null
      error_message = "auth_kms_key_arn is set without auth_parameter_arn: the key only serves to decrypt that parameter."
    }
    precondition {
      condition     = var.timeout > local.reserve_seconds
      error_message = "timeout (${var.timeout} s) must be above the ${local.reserve_seconds} s the function keeps back for the end of a run (5 s; 105 s more for the S3 calls with a report bucket; 21 s more for the SSM read with auth_parameter_arn), or every run fails at its start."
    }
  }
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
# Failure queue: scheduler dead letters and Lambda on-failure destination
################################################################################

resource "aws_sqs_queue" "dlq" {
  name                      = "${var.name}-failed-runs"
  message_retention_seconds = var.dlq_message_retention_seconds
  sqs_managed_sse_enabled   = true
}
