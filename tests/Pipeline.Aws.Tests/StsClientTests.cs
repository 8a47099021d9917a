using System.Text;
using Pipeline.Aws.Sts;

namespace Pipeline.Aws.Tests;

public sealed class StsClientTests
{
    private const string Answer = """
        <AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
          <AssumeRoleResult>
            <Credentials>
              <AccessKeyId>ASIAEXAMPLE</AccessKeyId>
              <SecretAccessKey>secret/with+chars=</SecretAccessKey>
              <SessionToken>token&amp;more</SessionToken>
              <Expiration>2026-12-04T21:00:00Z</Expiration>
            </Credentials>
            <AssumedRoleUser><Arn>arn:aws:sts::210987654321:assumed-role/w/s</Arn></AssumedRoleUser>
          </AssumeRoleResult>
        </AssumeRoleResponse>
        """;

    [Fact]
    public void ParseAssumeRole_ReadsTheCredentials()
    {
        var credentials = StsClient.ParseAssumeRole(Encoding.UTF8.GetBytes(Answer));

        credentials.AccessKeyId.Should().Be("ASIAEXAMPLE");
        credentials.SecretAccessKey.Should().Be("secret/with+chars=");
        credentials.SessionToken.Should().Be("token&more", "XML entities are decoded");
        credentials.Expiration.Should().Be(new DateTimeOffset(2026, 12, 4, 21, 0, 0, TimeSpan.Zero));
    }

    [Fact]
    public void TemporaryCredentials_ToString_HidesTheSecrets()
    {
        var text = StsClient.ParseAssumeRole(Encoding.UTF8.GetBytes(Answer)).ToString();

        text.Should().Contain("ASIAEXAMPLE").And.NotContain("secret/with").And.NotContain("token&more");
    }

    [Theory]
    [InlineData("not xml", "not XML")]
    [InlineData("<AssumeRoleResponse><AssumeRoleResult/></AssumeRoleResponse>", "no AssumeRoleResult/Credentials")]
    [InlineData("<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey><Expiration>2026-12-04T21:00:00Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>", "without SessionToken")]
    [InlineData("<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken><Expiration>soon</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>", "not a time")]
    [InlineData("<!DOCTYPE x [<!ENTITY e \"boom\">]><AssumeRoleResponse/>", "not XML")]
    public void ParseAssumeRole_Malformed_IsInvalidData(string body, string reason)
    {
        var act = () => StsClient.ParseAssumeRole(Encoding.UTF8.GetBytes(body));

        act.Should().Throw<InvalidDataException>().WithMessage($"*{reason}*");
    }
}
