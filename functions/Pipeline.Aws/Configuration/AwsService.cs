namespace Pipeline.Aws.Configuration;

/// <summary>The AWS services the pipeline calls.</summary>
public enum AwsService
{
    Kinesis,
    XRay,
    SesV2,
    S3,
    DynamoDb,
    Athena,
    CloudFormation,
    Sts,
    Lambda,
    CloudWatch,
}

/// <summary>Per-service wire facts: SigV4 signing name, endpoint host prefix, endpoint variable suffix.</summary>
internal sealed record AwsServiceInfo(AwsService Service, string SigningName, string EndpointPrefix, string EndpointVariableSuffix)
{
    // Signing names and endpoint prefixes from each service's model (endpointPrefix / signingName);
    // variable suffixes from the SDKs' "service-specific endpoints" spec: the service id upper-cased
    // with spaces as underscores (Kinesis, XRay, SESv2, S3, DynamoDB, Athena,
    // CloudFormation, STS, Lambda, CloudWatch; CloudWatch signs and is hosted as "monitoring").
    private static readonly AwsServiceInfo[] All =
    [
        new(AwsService.Kinesis, "kinesis", "kinesis", "KINESIS"),
        new(AwsService.XRay, "xray", "xray", "XRAY"),
        new(AwsService.SesV2, "ses", "email", "SESV2"),
        new(AwsService.S3, "s3", "s3", "S3"),
        new(AwsService.DynamoDb, "dynamodb", "dynamodb", "DYNAMODB"),
        new(AwsService.Athena, "athena", "athena", "ATHENA"),
        new(AwsService.CloudFormation, "cloudformation", "cloudformation", "CLOUDFORMATION"),
        new(AwsService.Sts, "sts", "sts", "STS"),
        new(AwsService.Lambda, "lambda", "lambda", "LAMBDA"),
        new(AwsService.CloudWatch, "monitoring", "monitoring", "CLOUDWATCH"),
    ];

    public static AwsServiceInfo Of(AwsService service) =>
        (uint)service < (uint)All.Length ? All[(int)service] : throw new ArgumentOutOfRangeException(nameof(service), service, null);
}
