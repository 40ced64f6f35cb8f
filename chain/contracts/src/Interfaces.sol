// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

interface IController {
    function getContract(bytes32 id) external view returns (address);
    function paused() external view returns (bool);
}

interface IRoundsManager {
    function currentRound() external view returns (uint256);
    function currentRoundInitialized() external view returns (bool);
    function blockHashForRound(uint256 round) external view returns (bytes32);
}

interface IBondingManager {
    function getTranscoderPoolSize() external view returns (uint256);
    function isActiveTranscoder(address transcoder) external view returns (bool);
    function updateTranscoderWithFees(address transcoder, uint256 fees, uint256 round) external;
}
