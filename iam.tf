# The function's execution role: its own log group, the failure queue, and the report prefix.

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
