# The function's execution role: its own log group, the failure queue, the report prefix (write;
# read latest/ only; list a created bucket, or latest/ only in an existing one; delete in run
# folders only; tag the pages kept in run folders), and (when set) the report key and the
# auth parameter.

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
  name               = local.lambda_role_name
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
      resources = ["${local.report_objects_arn}/*"]
    }
  }

  # The latest scheduled report: read to compare with, and HeadObject (authorised by
  # s3:GetObject) for its run and ETag before the compare-and-swap. The function reads a latest/
  # key only after listing it (benchtest.storage._exists), so it never relies on how S3 answers
  # a missing key (docs/aws-behaviour.md).
  dynamic "statement" {
    for_each = local.reports_enabled ? [1] : []

    content {
      sid       = "ReadLatestReport"
      actions   = ["s3:GetObject"]
      resources = ["${local.report_objects_arn}/latest/*"]
    }
  }

  # Listing: ListObjectsV2 with Prefix = a latest/ key. A bucket created here holds only this
  # function's reports, so the grant is the whole bucket (and S3 then answers 404 for a missing
  # key); in an existing bucket it is limited to latest/ by the s3:prefix condition.
  dynamic "statement" {
    for_each = local.reports_enabled ? [1] : []

    content {
      sid       = "ListLatestReport"
      actions   = ["s3:ListBucket"]
      resources = ["arn:${local.partition}:s3:::${local.report_bucket_name}"]

      dynamic "condition" {
        for_each = var.create_report_bucket ? [] : [1]

        content {
          test     = "StringLike"
          variable = "s3:prefix"
          values   = ["${var.report_prefix}/latest/*"]
        }
      }
    }
  }

  # A failed attempt deletes what it wrote in its own run folder: YYYY/MM/DD/run-…/ (scheduled)
  # or manual/run-…/ (benchtest.storage.new_run). "?" is one character, so neither pattern can
  # match a latest/ key.
  dynamic "statement" {
    for_each = local.reports_enabled ? [1] : []

    content {
      sid     = "RemoveFailedRunObjects"
      actions = ["s3:DeleteObject"]
      resources = [
        "${local.report_objects_arn}/????/??/??/run-*/*",
        "${local.report_objects_arn}/manual/run-*/*",
      ]
    }
  }

  # The run's pages are put with their tag (benchtest=pages, for their lifecycle rule): a
  # PutObject with tags is granted s3:PutObjectTagging too, on the pages' keys only.
  dynamic "statement" {
    for_each = local.reports_enabled && var.keep_pages ? [1] : []

    content {
      sid     = "TagKeptPages"
      actions = ["s3:PutObjectTagging"]
      resources = [
        "${local.report_objects_arn}/????/??/??/run-*/pages.zip",
        "${local.report_objects_arn}/manual/run-*/pages.zip",
      ]
    }
  }

  # SSE-KMS with a customer key: a PutObject needs a data key from it (Decrypt for multipart).
  dynamic "statement" {
    for_each = var.report_kms_key_arn == null ? [] : [var.report_kms_key_arn]

    content {
      sid       = "EncryptReports"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.auth_parameter_arn == null ? [] : [var.auth_parameter_arn]

    content {
      sid       = "ReadAuthParameter"
      actions   = ["ssm:GetParameter"]
      resources = [statement.value]
    }
  }

  # Only for that parameter: SSM names it in the encryption context of a SecureString.
  dynamic "statement" {
    for_each = var.auth_parameter_arn == null || var.auth_kms_key_arn == null ? [] : [var.auth_kms_key_arn]

    content {
      sid       = "DecryptAuthParameter"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:EncryptionContext:PARAMETER_ARN"
        values   = [var.auth_parameter_arn]
      }
    }
  }
}

resource "aws_iam_role_policy" "lambda" {
  name   = local.lambda_role_name
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.lambda.json
}
