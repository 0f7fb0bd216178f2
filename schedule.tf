# EventBridge Scheduler: the schedule, its group, and the role it invokes the function with.

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
  name               = local.scheduler_role_name
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
  name   = local.scheduler_role_name
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

    # Which run this is (the scheduled, not the actual, time) and Scheduler's execution id,
    # which marks a run as scheduled for the no-success alarm. Scheduler replaces these
    # keywords as text in the raw input, so they are written out here: jsonencode() would
    # escape "<" and ">" as \u003c and \u003e, Scheduler would find no keyword, and every run
    # would receive the literal keyword (docs/aws-behaviour.md).
    input = "{\"scheduled_time\": \"<aws.scheduler.scheduled-time>\", \"execution_id\": \"<aws.scheduler.execution-id>\"}"

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
